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
		return LayerNormComposed(b, x, gamma, beta, 1e-5), G.Nodes{x, gamma, beta}
	}
	for _, c := range tolerances {
		compareFused(t, "layer norm", c.dt, c.tol, fused, unfused)
	}
}
