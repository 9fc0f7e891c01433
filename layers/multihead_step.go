package layers

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// This file holds the pieces of MultiHeadAttention shared with incremental
// decoding, where one new position per sequence attends to cached keys and
// values instead of recomputing every earlier position.

// heads projects x [batch·s, DModel] with the named projection and splits
// it into heads: [batch, Heads, s, DModel/Heads].
func (m MultiHeadAttention) heads(b *graph.Builder, proj string, x *G.Node, batch, s int) *G.Node {
	y := Linear{Name: m.Name + "." + proj, In: m.DModel, Out: m.DModel}.Forward(b, x)
	y = G.Must(G.Reshape(y, tensor.Shape{batch, s, m.Heads, m.DModel / m.Heads}))
	return G.Must(G.Transpose(y, 0, 2, 1, 3))
}

// merge joins the heads of ctx [batch, Heads, s, Dh] and applies the
// output projection, giving [batch·s, DModel].
func (m MultiHeadAttention) merge(b *graph.Builder, ctx *G.Node, batch, s int) *G.Node {
	ctx = G.Must(G.Transpose(ctx, 0, 2, 1, 3))
	ctx = G.Must(G.Reshape(ctx, tensor.Shape{batch * s, m.DModel}))
	return Linear{Name: m.Name + ".out_proj", In: m.DModel, Out: m.DModel}.Forward(b, ctx)
}

// ProjectMemory computes the keys and values of memory [batch·s, DModel],
// [batch, Heads, s, Dh] each, once for all decoding steps of
// cross-attention.
func (m MultiHeadAttention) ProjectMemory(b *graph.Builder, memory *G.Node, batch, s int) (k, v *G.Node) {
	return m.heads(b, "k_proj", memory, batch, s), m.heads(b, "v_proj", memory, batch, s)
}

// StepSelf is self-attention for one new position per sequence: x
// [batch, DModel] attends to the cached keys and values [batch, Heads, T,
// Dh] followed by its own. mask [batch, 1, 1, T+1] hides unused cache slots.
// It returns the output [batch, DModel] and the new position's key and
// value [batch, Heads, 1, Dh], to be appended to the cache.
func (m MultiHeadAttention) StepSelf(b *graph.Builder, x, cacheK, cacheV, mask *G.Node, batch int) (out, k, v *G.Node) {
	q := m.heads(b, "q_proj", x, batch, 1)
	k = m.heads(b, "k_proj", x, batch, 1)
	v = m.heads(b, "v_proj", x, batch, 1)
	keys := G.Must(G.Concat(2, cacheK, k))
	vals := G.Must(G.Concat(2, cacheV, v))
	ctx, _ := ScaledDotProductAttention(b, q, keys, vals, mask, nil, 0)
	return m.merge(b, ctx, batch, 1), k, v
}

// StepCross is cross-attention for one new position per sequence: x
// [batch, DModel] attends to the memory's keys and values from
// ProjectMemory under mask [batch, 1, 1, s].
func (m MultiHeadAttention) StepCross(b *graph.Builder, x, memK, memV, mask *G.Node, batch int) *G.Node {
	q := m.heads(b, "q_proj", x, batch, 1)
	ctx, _ := ScaledDotProductAttention(b, q, memK, memV, mask, nil, 0)
	return m.merge(b, ctx, batch, 1)
}
