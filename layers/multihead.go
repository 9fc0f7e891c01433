package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// MultiHeadAttention projects queries, keys and values with separate
// weights and biases, attends in Heads subspaces of size DModel/Heads, and
// projects the concatenated heads back ("Attention Is All You Need" §3.2.2):
//
//	MultiHead(Q, K, V) = Concat(head_1, …, head_h)·W_O + b_O
//	head_i = Attention(Q·W_Q_i + b_Q_i, K·W_K_i + b_K_i, V·W_V_i + b_V_i)
//
// This is the parameterisation of PyTorch's nn.MultiheadAttention with its
// packed in_proj split into q_proj, k_proj and v_proj.
type MultiHeadAttention struct {
	Name    string // parameters Name+".{q,k,v,out}_proj.{weight,bias}"
	DModel  int
	Heads   int
	Dropout float64 // on the attention weights

	// Spec chooses the kind of self-attention (zero value: full).
	Spec AttentionSpec
	// Positions, when it acts inside attention (QueryKeyPositions,
	// ScorePositions), is applied to self-attention; nil or an encoding
	// that only adds to the embeddings changes nothing here.
	Positions PositionalEncoding
}

// Validate checks that the model width splits evenly into heads and that
// the kind of attention can compute the positions.
func (m MultiHeadAttention) Validate() error {
	if m.Heads <= 0 || m.DModel%m.Heads != 0 {
		return fmt.Errorf("d_model %d is not divisible by %d heads", m.DModel, m.Heads)
	}
	if err := m.Spec.Check(); err != nil {
		return err
	}
	if _, ok := m.Positions.(ScorePositions); ok && (!m.Spec.IsFull() || m.Spec.Chunk > 0) {
		if m.Spec.IsFull() {
			return fmt.Errorf("a bias on the attention scores needs full attention without chunks, got chunk %d", m.Spec.Chunk)
		}
		return fmt.Errorf("a bias on the attention scores needs full attention, not %s", m.Spec.Kind)
	}
	return nil
}

// Forward attends from query [batch·sq, DModel] to memory [batch·sk, DModel]
// (cross-attention; Self is self-attention) under the additive mask
// [batch, 1, sq, sk] (nil for none). It returns the output
// [batch·sq, DModel] and the attention weights [batch, Heads, sq, sk].
//
// With a mask, no score bias and b.Weights unset, the attention itself is
// the fused op graph.Attention, and the weights returned are nil; otherwise
// it is composed of Gorgonia ops (ScaledDotProductAttention), which the
// fused op's tests check it against.
func (m MultiHeadAttention) Forward(b *graph.Builder, query, memory *G.Node, batch, sq, sk int, mask *G.Node) (out, weights *G.Node) {
	if err := m.Validate(); err != nil {
		panic("layers: " + err.Error())
	}
	q, k, v := m.project(b, "q_proj", query), m.project(b, "k_proj", memory), m.project(b, "v_proj", memory)
	return m.full(b, q, k, v, batch, sq, sk, mask, nil)
}

// Self is self-attention of x [batch·s, DModel] of the kind m.Spec names,
// with m.Positions applied. Full attention uses the additive mask
// [batch, 1, s, s] and returns its weights (when it forms them: see
// Forward); chunked full attention (m.Spec.Chunked) and the other kinds
// use the key padding pad [batch, s] (0 or graph.MaskValue) instead,
// never form an s×s matrix, and return nil weights.
func (m MultiHeadAttention) Self(b *graph.Builder, x *G.Node, batch, s int, mask, pad *G.Node) (out, weights *G.Node) {
	if err := m.Validate(); err != nil {
		panic("layers: " + err.Error())
	}
	kind, _ := m.Spec.Attention()
	q, k, v := m.project(b, "q_proj", x), m.project(b, "k_proj", x), m.project(b, "v_proj", x)
	if qk, ok := m.Positions.(QueryKeyPositions); ok {
		q, k = qk.QueryKey(b, q, k, batch, s)
	}
	if m.Spec.Chunked(b) {
		c := graph.Chunk{Size: m.Spec.Chunk, Causal: m.Spec.Causal, Dropout: m.Dropout}
		ctx := graph.ChunkedAttention(q, k, v, pad, b.DropoutSeed(m.Dropout), batch, m.Heads, c)
		return m.project(b, "out_proj", ctx), nil
	}
	if kind.Attend != nil {
		ctx := kind.Attend(b, m.split(q, batch, s), m.split(k, batch, s), m.split(v, batch, s), pad, m.Spec)
		return m.merge(b, ctx, batch, s), nil
	}
	var bias *G.Node
	if sp, ok := m.Positions.(ScorePositions); ok {
		bias = sp.ScoreBias(b, s, s)
	}
	return m.full(b, q, k, v, batch, s, s, mask, bias)
}

// full is full attention of the projected rows q [batch·sq, DModel] and k,
// v [batch·sk, DModel], with the score bias bias (nil for none).
func (m MultiHeadAttention) full(b *graph.Builder, q, k, v *G.Node, batch, sq, sk int, mask, bias *G.Node) (out, weights *G.Node) {
	if !b.Weights && !b.Composed && bias == nil && mask != nil {
		drop := b.DropoutMask(m.Dropout, batch, m.Heads, sq, sk)
		ctx := b.Attention(q, k, v, mask, drop, batch, m.Heads)
		return m.project(b, "out_proj", ctx), nil
	}
	ctx, weights := ScaledDotProductAttention(b, m.split(q, batch, sq), m.split(k, batch, sk), m.split(v, batch, sk), mask, bias, m.Dropout)
	return m.merge(b, ctx, batch, sq), weights
}

// project applies the named projection to rows x [n, DModel].
func (m MultiHeadAttention) project(b *graph.Builder, proj string, x *G.Node) *G.Node {
	return Linear{Name: m.Name + "." + proj, In: m.DModel, Out: m.DModel}.Forward(b, x)
}

// split turns projected rows [batch·s, DModel] into heads
// [batch, Heads, s, DModel/Heads].
func (m MultiHeadAttention) split(y *G.Node, batch, s int) *G.Node {
	y = G.Must(G.Reshape(y, tensor.Shape{batch, s, m.Heads, m.DModel / m.Heads}))
	return G.Must(G.Transpose(y, 0, 2, 1, 3))
}

// merge joins the heads of ctx [batch, Heads, s, Dh] and applies the
// output projection, giving [batch·s, DModel].
func (m MultiHeadAttention) merge(b *graph.Builder, ctx *G.Node, batch, s int) *G.Node {
	ctx = G.Must(G.Transpose(ctx, 0, 2, 1, 3))
	ctx = G.Must(G.Reshape(ctx, tensor.Shape{batch * s, m.DModel}))
	return m.project(b, "out_proj", ctx)
}
