package graph

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attentionInputs adds q [2·3, 4], k and v [2·4, 4] (2 heads of 2), a
// padding mask hiding the last key of sentence 1 and, with dropout, a
// dropout mask of 0s and 2s.
func attentionInputs(b *Builder, dropout bool) (q, k, v, mask, drop *G.Node) {
	q = RandomInput(b, "q", 1, 6, 4)
	k = RandomInput(b, "k", 2, 8, 4)
	v = RandomInput(b, "v", 3, 8, 4)
	mask = b.Input("mask", 2, 1, 3, 4)
	FillAttentionMask(mask.Value().(*tensor.Dense), []bool{false, false, false, false, false, false, false, true}, false)
	if dropout {
		drop = b.Input("drop", 2, 2, 3, 4)
		d := make([]float64, 48)
		for i := range d {
			if (i*7)%5 != 0 {
				d[i] = 2
			}
		}
		copy64To(drop.Value().(*tensor.Dense), d)
	}
	return q, k, v, mask, drop
}

// unfusedAttention is the same attention as a graph of Gorgonia ops, with
// the heads split off by reshapes and transposes.
func unfusedAttention(b *Builder, q, k, v, mask, drop *G.Node) *G.Node {
	split := func(x *G.Node, s int) *G.Node {
		x = G.Must(G.Reshape(x, tensor.Shape{2, s, 2, 2}))
		return G.Must(G.Transpose(x, 0, 2, 1, 3))
	}
	qh, kh, vh := split(q, 3), split(k, 4), split(v, 4)
	qh = G.Must(G.Mul(qh, b.Const(1/1.4142135623730951)))
	scores := G.Must(G.BroadcastAdd(G.Must(G.BatchedMatMul(qh, kh, false, true)), mask, nil, []byte{1}))
	w := SoftMax(scores)
	if drop != nil {
		w = G.Must(G.HadamardProd(w, drop))
	}
	ctx := G.Must(G.Transpose(G.Must(G.BatchedMatMul(w, vh)), 0, 2, 1, 3))
	return G.Must(G.Reshape(ctx, tensor.Shape{6, 4}))
}

func TestAttentionGradCheck(t *testing.T) {
	for _, dropout := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		q, k, v, mask, drop := attentionInputs(b, dropout)
		checkGrads(t, fmt.Sprintf("dropout %v", dropout), b, Attention(q, k, v, mask, drop, 2, 2), G.Nodes{q, k, v})
	}
}

// The fused op equals the graph of Gorgonia ops, in values and in the
// gradients of q, k and v, with and without dropout.
func TestAttentionEqualsUnfused(t *testing.T) {
	for _, dropout := range []bool{false, true} {
		fused := func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, mask, drop := attentionInputs(b, dropout)
			return Attention(q, k, v, mask, drop, 2, 2), G.Nodes{q, k, v}
		}
		unfused := func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, mask, drop := attentionInputs(b, dropout)
			return unfusedAttention(b, q, k, v, mask, drop), G.Nodes{q, k, v}
		}
		for _, c := range tolerances {
			compareFused(t, fmt.Sprintf("dropout %v", dropout), c.dt, c.tol, fused, unfused)
		}
	}
}

// A NaN score (here of one key) makes the context NaN in its head for
// every query of its sentence, and leaves the rest finite (the shift is
// found by comparison, not max).
func TestAttentionNaNScore(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float32, 1), false)
	q, k, v, mask, _ := attentionInputs(b, false)
	ks := k.Value().Data().([]float32)
	ks[1*4+2] = float32(math.NaN()) // key 1 of sentence 0, head 1 (columns 2 and 3)
	out := run(t, b, Attention(q, k, v, mask, nil, 2, 2))
	for r := 0; r < 6; r++ {
		for c := 0; c < 4; c++ {
			nan := math.IsNaN(float64(out[r*4+c]))
			if want := r < 3 && c >= 2; nan != want {
				t.Errorf("context [%d, %d] = %v; NaN expected: %v", r, c, out[r*4+c], want)
			}
		}
	}
}
