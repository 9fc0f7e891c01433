package layers

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Embedding maps token ids to vectors scaled by sqrt(DModel), as in
// "Attention Is All You Need" §3.4. Its table [Vocab, DModel] can double as
// the output projection (see Project).
type Embedding struct {
	Name   string // parameter Name+".weight"
	Vocab  int
	DModel int
	// Unscaled leaves out the sqrt(DModel) factor.
	Unscaled bool
}

func (e Embedding) table(b *graph.Builder) *G.Node {
	return b.Param(e.Name+".weight", nil, e.Vocab, e.DModel)
}

// Forward looks up ids, an Int vector node of length N, giving [N, DModel].
func (e Embedding) Forward(b *graph.Builder, ids *G.Node) *G.Node {
	x := b.Lookup(e.table(b), ids)
	if e.Unscaled {
		return x
	}
	return G.Must(G.Mul(x, b.Const(math.Sqrt(float64(e.DModel)))))
}

// Project computes x·Eᵀ for x [N, DModel], giving scores [N, Vocab]: the
// tied output projection of Press & Wolf (2017).
func (e Embedding) Project(b *graph.Builder, x *G.Node) *G.Node {
	return b.ProductT(x, e.table(b))
}

// ProjectBias computes x·Eᵀ + bias as one fused op (graph.AffineT).
func (e Embedding) ProjectBias(b *graph.Builder, x, bias *G.Node) *G.Node {
	return b.AffineT(x, e.table(b), bias)
}
