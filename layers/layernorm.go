package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// LayerNorm normalises each row over its last axis (Ba, Kiros & Hinton, 2016):
//
//	y = (x − mean(x)) / sqrt(var(x) + ε) · γ + β
//
// with the biased variance, as PyTorch's nn.LayerNorm.
type LayerNorm struct {
	Name string // parameters Name+".weight" (γ) and Name+".bias" (β)
	Dim  int
	Eps  float64
}

// Forward normalises x [N, Dim].
func (l LayerNorm) Forward(b *graph.Builder, x *G.Node) *G.Node {
	gamma := b.Param(l.Name+".weight", graph.Ones, l.Dim)
	beta := b.Param(l.Name+".bias", graph.Zeros, l.Dim)
	mean := G.Must(G.Mean(x, 1))
	xc := G.Must(G.BroadcastSub(x, mean, nil, []byte{1}))
	variance := G.Must(G.Mean(G.Must(G.Square(xc)), 1))
	std := G.Must(G.Sqrt(G.Must(G.Add(variance, b.Const(l.Eps)))))
	xn := G.Must(G.BroadcastHadamardDiv(xc, std, nil, []byte{1}))
	y := G.Must(G.BroadcastHadamardProd(xn, gamma, nil, []byte{0}))
	return G.Must(G.BroadcastAdd(y, beta, nil, []byte{0}))
}
