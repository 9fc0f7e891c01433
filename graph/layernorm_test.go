package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// layerNormInputs adds x [rows, d] (rows with different offsets and
// scales), gamma and beta.
func layerNormInputs(b *Builder, rows, d int) (x, gamma, beta *G.Node) {
	x = RandomInput(b, "x", 1, rows, d)
	xs := Float64s(x.Value().(*tensor.Dense))
	for r := 0; r < rows; r++ {
		for i := 0; i < d; i++ {
			xs[r*d+i] = xs[r*d+i]*float64(r+1) + float64(3*r-4)
		}
	}
	copy64To(x.Value().(*tensor.Dense), xs)
	return x, RandomInput(b, "gamma", 2, d), RandomInput(b, "beta", 3, d)
}

func TestLayerNormGradCheck(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	x, gamma, beta := layerNormInputs(b, 5, 8)
	checkGrads(t, "layer norm", b, LayerNorm(x, gamma, beta, 1e-5), G.Nodes{x, gamma, beta})
}

// The fused op equals the formula as a graph of Gorgonia ops, in values and
// in the gradients of x, gamma and beta.
func TestLayerNormEqualsUnfused(t *testing.T) {
	fused := func(b *Builder) (*G.Node, G.Nodes) {
		x, gamma, beta := layerNormInputs(b, 7, 16)
		return LayerNorm(x, gamma, beta, 1e-5), G.Nodes{x, gamma, beta}
	}
	unfused := func(b *Builder) (*G.Node, G.Nodes) {
		x, gamma, beta := layerNormInputs(b, 7, 16)
		mean := G.Must(G.Mean(x, 1))
		xc := G.Must(G.BroadcastSub(x, mean, nil, []byte{1}))
		variance := G.Must(G.Mean(G.Must(G.Square(xc)), 1))
		std := G.Must(G.Sqrt(G.Must(G.Add(variance, b.Const(1e-5)))))
		xn := G.Must(G.BroadcastHadamardDiv(xc, std, nil, []byte{1}))
		y := G.Must(G.BroadcastHadamardProd(xn, gamma, nil, []byte{0}))
		return G.Must(G.BroadcastAdd(y, beta, nil, []byte{0})), G.Nodes{x, gamma, beta}
	}
	for _, c := range tolerances {
		compareFused(t, "layer norm", c.dt, c.tol, fused, unfused)
	}
}
