package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func residualInputs(b *Builder, masked bool) (x, y, mask *G.Node) {
	x, y = RandomInput(b, "x", 1, 4, 5), RandomInput(b, "y", 2, 4, 5)
	if masked {
		mask = b.Input("mask", 4, 5)
		m := make([]float64, 20)
		for i := range m {
			if i%3 != 0 {
				m[i] = 1.25
			}
		}
		copy64To(mask.Value().(*tensor.Dense), m)
	}
	return x, y, mask
}

func TestResidualGradCheck(t *testing.T) {
	for _, masked := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x, y, mask := residualInputs(b, masked)
		res, err := GradCheckOutput(b, Residual(x, y, mask), G.Nodes{x, y}, GradCheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.MaxRelErr > 1e-7 {
				t.Errorf("masked %v, input %d: max relative error %g", masked, i, r.MaxRelErr)
			}
		}
	}
}

// The fused op equals Add(x, HadamardProd(y, mask)) in value and gradients
// (exactly: both compute the same products and sums).
func TestResidualEqualsUnfused(t *testing.T) {
	run := func(masked, fused bool) (out []float64, gx, gy []float64) {
		build := func(b *Builder) (z, x, y *G.Node) {
			x, y, mask := residualInputs(b, masked)
			switch {
			case fused:
				return Residual(x, y, mask), x, y
			case masked:
				return G.Must(G.Add(x, G.Must(G.HadamardProd(y, mask)))), x, y
			}
			return G.Must(G.Add(x, y)), x, y
		}
		fwd := NewBuilder(NewStore(tensor.Float32, 1), false)
		z, _, _ := build(fwd)
		vm := G.NewTapeMachine(fwd.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		out = append(out, Float64s(z.Value().(*tensor.Dense))...)
		b := NewBuilder(NewStore(tensor.Float32, 1), false)
		z, x, y := build(b)
		if _, err := G.Grad(Probe(b, z, 5), x, y); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(b.G)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		g1, _ := x.Grad()
		g2, _ := y.Grad()
		return out, append([]float64(nil), Float64s(g1.(*tensor.Dense))...), append([]float64(nil), Float64s(g2.(*tensor.Dense))...)
	}
	for _, masked := range []bool{false, true} {
		o1, x1, y1 := run(masked, true)
		o2, x2, y2 := run(masked, false)
		if maxRelDiff(o1, o2) != 0 || maxRelDiff(x1, x2) != 0 || maxRelDiff(y1, y2) != 0 {
			t.Errorf("masked %v: fused and unfused differ: %v %v %v", masked, maxRelDiff(o1, o2), maxRelDiff(x1, x2), maxRelDiff(y1, y2))
		}
	}
}

func TestReLUGradCheck(t *testing.T) {
	for _, masked := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x, _, mask := residualInputs(b, masked)
		res, err := GradCheckOutput(b, ReLU(x, mask), G.Nodes{x}, GradCheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].MaxRelErr > 1e-7 {
			t.Errorf("masked %v: max relative error %g", masked, res[0].MaxRelErr)
		}
	}
}

// The fused op equals HadamardProd(Rectify(x), mask) in value and gradient.
func TestReLUEqualsUnfused(t *testing.T) {
	run := func(masked, fused bool) (out, gx []float64) {
		build := func(b *Builder) (y, x *G.Node) {
			x, _, mask := residualInputs(b, masked)
			switch {
			case fused:
				return ReLU(x, mask), x
			case masked:
				return G.Must(G.HadamardProd(G.Must(G.Rectify(x)), mask)), x
			}
			return G.Must(G.Rectify(x)), x
		}
		fwd := NewBuilder(NewStore(tensor.Float64, 1), false)
		y, _ := build(fwd)
		vm := G.NewTapeMachine(fwd.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		out = append(out, Float64s(y.Value().(*tensor.Dense))...)
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		y, x := build(b)
		if _, err := G.Grad(Probe(b, y, 5), x); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(b.G)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		g, _ := x.Grad()
		return out, append([]float64(nil), Float64s(g.(*tensor.Dense))...)
	}
	for _, masked := range []bool{false, true} {
		o1, g1 := run(masked, true)
		o2, g2 := run(masked, false)
		if d := max(maxRelDiff(o1, o2), maxRelDiff(g1, g2)); d > 1e-15 {
			t.Errorf("masked %v: fused and unfused differ by %.3g", masked, d)
		}
	}
}
