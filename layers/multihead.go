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

	// Spec chooses full, sliding-window or linear self-attention (zero
	// value: full).
	Spec AttentionSpec
	// RelBias, when set, adds a relative-position bias to the scores of
	// full attention.
	RelBias *RelativeBias
}

// Validate checks that the model width splits evenly into heads.
func (m MultiHeadAttention) Validate() error {
	if m.Heads <= 0 || m.DModel%m.Heads != 0 {
		return fmt.Errorf("d_model %d is not divisible by %d heads", m.DModel, m.Heads)
	}
	if err := m.Spec.Check(); err != nil {
		return err
	}
	if m.RelBias != nil && !m.Spec.IsFull() {
		return fmt.Errorf("a relative-position bias needs full attention, not %s", m.Spec.Kind)
	}
	return nil
}

// Forward attends from query [batch·sq, DModel] to memory [batch·sk, DModel]
// (memory == query for self-attention) under the additive mask
// [batch, 1, sq, sk] (nil for none). It returns the output
// [batch·sq, DModel] and the attention weights [batch, Heads, sq, sk]. It
// is full attention; Self also handles the other kinds.
//
// With a mask, no relative bias and b.Weights unset, the attention itself
// is the fused op graph.Attention, and the weights returned are nil.
func (m MultiHeadAttention) Forward(b *graph.Builder, query, memory *G.Node, batch, sq, sk int, mask *G.Node) (out, weights *G.Node) {
	if err := m.Validate(); err != nil {
		panic("layers: " + err.Error())
	}
	if !b.Weights && m.RelBias == nil && mask != nil {
		return m.fused(b, query, memory, batch, sq, sk, mask), nil
	}
	q := m.heads(b, "q_proj", query, batch, sq)
	k := m.heads(b, "k_proj", memory, batch, sk)
	v := m.heads(b, "v_proj", memory, batch, sk)
	var bias *G.Node
	if m.RelBias != nil {
		bias = m.RelBias.Forward(b, sq, sk)
	}
	ctx, weights := ScaledDotProductAttention(b, q, k, v, mask, bias, m.Dropout)
	out = m.merge(b, ctx, batch, sq)
	return out, weights
}

// Self is self-attention of x [batch·s, DModel] of the kind m.Spec names.
// Full attention uses the additive mask [batch, 1, s, s] and returns its
// weights; sliding-window and linear attention use the key padding pad
// [batch, s] (0 or graph.MaskValue) instead, never form an s×s matrix, and
// return nil weights.
func (m MultiHeadAttention) Self(b *graph.Builder, x *G.Node, batch, s int, mask, pad *G.Node) (out, weights *G.Node) {
	if m.Spec.IsFull() {
		return m.Forward(b, x, x, batch, s, s, mask)
	}
	if err := m.Validate(); err != nil {
		panic("layers: " + err.Error())
	}
	q := m.heads(b, "q_proj", x, batch, s)
	k := m.heads(b, "k_proj", x, batch, s)
	v := m.heads(b, "v_proj", x, batch, s)
	return m.merge(b, m.Spec.sparseSelf(q, k, v, pad), batch, s), nil
}

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

// fused is Forward with the projections as linear layers and the attention
// as one graph.Attention op on the projected rows.
func (m MultiHeadAttention) fused(b *graph.Builder, query, memory *G.Node, batch, sq, sk int, mask *G.Node) *G.Node {
	proj := func(name string, x *G.Node) *G.Node {
		return Linear{Name: m.Name + "." + name, In: m.DModel, Out: m.DModel}.Forward(b, x)
	}
	q, k, v := proj("q_proj", query), proj("k_proj", memory), proj("v_proj", memory)
	drop := b.DropoutMask(m.Dropout, batch, m.Heads, sq, sk)
	ctx := graph.Attention(q, k, v, mask, drop, batch, m.Heads)
	return proj("out_proj", ctx)
}
