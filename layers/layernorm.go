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

// Forward normalises x [N, Dim] with the fused op graph.LayerNorm (one
// op with a hand-written backward pass instead of a graph of nine), or
// with that graph (graph.LayerNormComposed) when b.Composed is set.
func (l LayerNorm) Forward(b *graph.Builder, x *G.Node) *G.Node {
	gamma := b.Param(l.Name+".weight", graph.Ones, l.Dim)
	beta := b.Param(l.Name+".bias", graph.Zeros, l.Dim)
	return b.LayerNorm(x, gamma, beta, l.Eps)
}
