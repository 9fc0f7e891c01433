package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestAffineGradCheck(t *testing.T) {
	for _, trans := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x := RandomInput(b, "x", 1, 5, 4)
		w := RandomInput(b, "w", 2, 4, 3)
		f := Affine
		if trans {
			w, f = RandomInput(b, "wt", 2, 3, 4), AffineT
		}
		bias := RandomInput(b, "b", 3, 3)
		res, err := GradCheckOutput(b, f(x, w, bias), G.Nodes{x, w, bias}, GradCheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.MaxRelErr > 1e-7 {
				t.Errorf("transposed %v, input %d: max relative error %g", trans, i, r.MaxRelErr)
			}
		}
	}
}

// runAffine returns the output of x·W + b (from a forward-only run) and the
// gradients of a probe of it, fused or as Gorgonia's Mul and BroadcastAdd
// (of Tensordot for the transposed form).
func runAffine(t *testing.T, dt tensor.Dtype, trans, fused bool) (out []float64, grads [3][]float64) {
	t.Helper()
	build := func(b *Builder) (y, x, w, bias *G.Node) {
		x = RandomInput(b, "x", 1, 7, 5)
		if trans {
			w = RandomInput(b, "w", 2, 6, 5)
		} else {
			w = RandomInput(b, "w", 2, 5, 6)
		}
		bias = RandomInput(b, "b", 3, 6)
		switch {
		case fused && trans:
			y = AffineT(x, w, bias)
		case fused:
			y = Affine(x, w, bias)
		case trans:
			y = G.Must(G.BroadcastAdd(G.Must(G.Tensordot([]int{1}, []int{1}, x, w)), bias, nil, []byte{0}))
		default:
			y = G.Must(G.BroadcastAdd(G.Must(G.Mul(x, w)), bias, nil, []byte{0}))
		}
		return y, x, w, bias
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
	y, x, w, bias := build(b)
	cost := Probe(b, y, 5)
	if _, err := G.Grad(cost, x, w, bias); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i, n := range []*G.Node{x, w, bias} {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[i] = append(grads[i], Float64s(g.(*tensor.Dense))...)
	}
	return out, grads
}

// The fused op equals Gorgonia's product plus broadcast bias, in values and
// in the gradients of x, W and b.
func TestAffineEqualsUnfused(t *testing.T) {
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-13}, {tensor.Float32, 1e-5}} {
		for _, trans := range []bool{false, true} {
			got, gotGrads := runAffine(t, c.dt, trans, true)
			want, wantGrads := runAffine(t, c.dt, trans, false)
			if d := maxRelDiff(got, want); d > c.tol {
				t.Errorf("%v, transposed %v: outputs differ by %.3g", c.dt, trans, d)
			}
			for i, name := range []string{"x", "W", "b"} {
				if d := maxRelDiff(gotGrads[i], wantGrads[i]); d > c.tol {
					t.Errorf("%v, transposed %v: gradient of %s differs by %.3g", c.dt, trans, name, d)
				}
			}
		}
	}
}
