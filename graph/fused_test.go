package graph

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The fused ops are checked against the graphs of Gorgonia ops they
// replace: same inputs, then the outputs and the gradients of a probe of
// them compared.

// fusedBuild adds fixed inputs to b and returns an output and the nodes
// whose gradients are compared.
type fusedBuild func(b *Builder) (out *G.Node, wrt G.Nodes)

// outputAndGrads runs build twice in dtype dt: forward only, for the
// output (a backward pass may reuse an output's memory), and with the
// gradients of Probe(out) with respect to wrt.
func outputAndGrads(t *testing.T, dt tensor.Dtype, build fusedBuild) (out []float64, grads [][]float64) {
	t.Helper()
	fwd := NewBuilder(NewStore(dt, 1), false)
	y, _ := build(fwd)
	vm := G.NewTapeMachine(fwd.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out = append(out, Float64s(y.Value().(*tensor.Dense))...)

	b := NewBuilder(NewStore(dt, 1), false)
	y, wrt := build(b)
	if _, err := G.Grad(Probe(b, y, 5), wrt...); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, append([]float64(nil), Float64s(g.(*tensor.Dense))...))
	}
	return out, grads
}

// compareFused fails t when the fused build's output or any gradient
// differs from the unfused build's by more than tol (relative, against
// max(1, |value|)).
func compareFused(t *testing.T, name string, dt tensor.Dtype, tol float64, fused, unfused fusedBuild) {
	t.Helper()
	got, gotGrads := outputAndGrads(t, dt, fused)
	want, wantGrads := outputAndGrads(t, dt, unfused)
	if d := maxRelDiff(got, want); d > tol {
		t.Errorf("%s, %v: outputs differ by %.3g", name, dt, d)
	}
	for i := range gotGrads {
		if d := maxRelDiff(gotGrads[i], wantGrads[i]); d > tol {
			t.Errorf("%s, %v: gradient %d differs by %.3g", name, dt, i, d)
		}
	}
}

func maxRelDiff(a, b []float64) float64 {
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(a[i]-b[i])/max(1, math.Abs(b[i])))
	}
	return worst
}

// tolerances are compareFused's per dtype.
var tolerances = []struct {
	dt  tensor.Dtype
	tol float64
}{{tensor.Float64, 1e-12}, {tensor.Float32, 1e-5}}

// checkGrads fails t when a finite-difference check of out's gradients
// with respect to wrt exceeds 1e-7.
func checkGrads(t *testing.T, name string, b *Builder, out *G.Node, wrt G.Nodes) {
	t.Helper()
	checkGradsTol(t, name, b, out, wrt, 1e-7)
}

// checkGradsTol is checkGrads with the largest relative error allowed.
func checkGradsTol(t *testing.T, name string, b *Builder, out *G.Node, wrt G.Nodes, tol float64) {
	t.Helper()
	res, err := GradCheckOutput(b, out, wrt, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.MaxRelErr > tol {
			t.Errorf("%s, input %d: max relative error %g", name, i, r.MaxRelErr)
		}
	}
}
