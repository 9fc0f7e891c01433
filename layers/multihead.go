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
}

// Validate checks that the model width splits evenly into heads.
func (m MultiHeadAttention) Validate() error {
	if m.Heads <= 0 || m.DModel%m.Heads != 0 {
		return fmt.Errorf("d_model %d is not divisible by %d heads", m.DModel, m.Heads)
	}
	return nil
}

// Forward attends from query [batch·sq, DModel] to memory [batch·sk, DModel]
// (memory == query for self-attention) under the additive mask
// [batch, 1, sq, sk] (nil for none). It returns the output
// [batch·sq, DModel] and the attention weights [batch, Heads, sq, sk].
func (m MultiHeadAttention) Forward(b *graph.Builder, query, memory *G.Node, batch, sq, sk int, mask *G.Node) (out, weights *G.Node) {
	if err := m.Validate(); err != nil {
		panic("layers: " + err.Error())
	}
	dh := m.DModel / m.Heads
	split := func(proj string, x *G.Node, s int) *G.Node {
		y := Linear{Name: m.Name + "." + proj, In: m.DModel, Out: m.DModel}.Forward(b, x)
		y = G.Must(G.Reshape(y, tensor.Shape{batch, s, m.Heads, dh}))
		return G.Must(G.Transpose(y, 0, 2, 1, 3)) // [batch, heads, s, dh]
	}
	q := split("q_proj", query, sq)
	k := split("k_proj", memory, sk)
	v := split("v_proj", memory, sk)
	ctx, weights := ScaledDotProductAttention(b, q, k, v, mask, m.Dropout)
	ctx = G.Must(G.Transpose(ctx, 0, 2, 1, 3))
	ctx = G.Must(G.Reshape(ctx, tensor.Shape{batch * sq, m.DModel}))
	out = Linear{Name: m.Name + ".out_proj", In: m.DModel, Out: m.DModel}.Forward(b, ctx)
	return out, weights
}
