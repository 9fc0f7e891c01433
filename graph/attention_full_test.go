package graph

import (
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
		res, err := GradCheckOutput(b, Attention(q, k, v, mask, drop, 2, 2), G.Nodes{q, k, v}, GradCheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.MaxRelErr > 1e-7 {
				t.Errorf("dropout %v, input %d: max relative error %g", dropout, i, r.MaxRelErr)
			}
		}
	}
}

// The fused op equals the graph of Gorgonia ops, in values and in the
// gradients of q, k and v, with and without dropout.
func TestAttentionEqualsUnfused(t *testing.T) {
	run := func(dt tensor.Dtype, dropout, fused bool) (out []float64, grads [3][]float64) {
		build := func(b *Builder) (y, q, k, v *G.Node) {
			q, k, v, mask, drop := attentionInputs(b, dropout)
			if fused {
				return Attention(q, k, v, mask, drop, 2, 2), q, k, v
			}
			return unfusedAttention(b, q, k, v, mask, drop), q, k, v
		}
		fwd := NewBuilder(NewStore(dt, 1), false)
		y, _, _, _ := build(fwd)
		vm := G.NewTapeMachine(fwd.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		out = append(out, Float64s(y.Value().(*tensor.Dense))...)
		b := NewBuilder(NewStore(dt, 1), false)
		y, q, k, v := build(b)
		cost := Probe(b, y, 5)
		if _, err := G.Grad(cost, q, k, v); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(b.G)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		for i, n := range []*G.Node{q, k, v} {
			g, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[i] = append(grads[i], Float64s(g.(*tensor.Dense))...)
		}
		return out, grads
	}
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-13}, {tensor.Float32, 1e-5}} {
		for _, dropout := range []bool{false, true} {
			got, gotGrads := run(c.dt, dropout, true)
			want, wantGrads := run(c.dt, dropout, false)
			if d := maxRelDiff(got, want); d > c.tol {
				t.Errorf("%v, dropout %v: outputs differ by %.3g", c.dt, dropout, d)
			}
			for i, name := range []string{"q", "k", "v"} {
				if d := maxRelDiff(gotGrads[i], wantGrads[i]); d > c.tol {
					t.Errorf("%v, dropout %v: gradient of %s differs by %.3g", c.dt, dropout, name, d)
				}
			}
		}
	}
}
