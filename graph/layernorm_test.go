package graph

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// unfusedLayerNorm is the layer norm formula as a graph of Gorgonia's own
// ops, the reference for the fused op.
func unfusedLayerNorm(b *Builder, x, gamma, beta *G.Node, eps float64) *G.Node {
	mean := G.Must(G.Mean(x, 1))
	xc := G.Must(G.BroadcastSub(x, mean, nil, []byte{1}))
	variance := G.Must(G.Mean(G.Must(G.Square(xc)), 1))
	std := G.Must(G.Sqrt(G.Must(G.Add(variance, b.Const(eps)))))
	xn := G.Must(G.BroadcastHadamardDiv(xc, std, nil, []byte{1}))
	y := G.Must(G.BroadcastHadamardProd(xn, gamma, nil, []byte{0}))
	return G.Must(G.BroadcastAdd(y, beta, nil, []byte{0}))
}

type normFn func(b *Builder, x, gamma, beta *G.Node, eps float64) *G.Node

func fusedLayerNorm(_ *Builder, x, gamma, beta *G.Node, eps float64) *G.Node {
	return LayerNorm(x, gamma, beta, eps)
}

// layerNormInputs adds x [rows, d] (rows with different offsets and
// scales), gamma and beta.
func layerNormInputs(b *Builder, rows, d int) (x, gamma, beta *G.Node) {
	x = RandomInput(b, "x", 1, rows, d)
	xs := Float64s(x.Value().(*tensor.Dense))
	for r := 0; r < rows; r++ {
		for i := 0; i < d; i++ {
			xs[r*d+i] = xs[r*d+i]*float64(r+1) + float64(3*r-4)
		}
	}
	copy64To(x.Value().(*tensor.Dense), xs)
	return x, RandomInput(b, "gamma", 2, d), RandomInput(b, "beta", 3, d)
}

func TestLayerNormGradCheck(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	x, gamma, beta := layerNormInputs(b, 5, 8)
	res, err := GradCheckOutput(b, LayerNorm(x, gamma, beta, 1e-5), G.Nodes{x, gamma, beta}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.MaxRelErr > 1e-7 {
			t.Errorf("input %d: max relative error %g", i, r.MaxRelErr)
		}
	}
}

// runNorm returns the output of f on fixed inputs (from a forward-only run)
// and the gradients of a probe of it with respect to x, gamma and beta.
func runNorm(t *testing.T, dt tensor.Dtype, f normFn) (out []float64, grads [3][]float64) {
	t.Helper()
	fwd := NewBuilder(NewStore(dt, 1), false)
	x, gamma, beta := layerNormInputs(fwd, 7, 16)
	y := f(fwd, x, gamma, beta, 1e-5)
	vm := G.NewTapeMachine(fwd.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out = append(out, Float64s(y.Value().(*tensor.Dense))...)

	b := NewBuilder(NewStore(dt, 1), false)
	x, gamma, beta = layerNormInputs(b, 7, 16)
	cost := Probe(b, f(b, x, gamma, beta, 1e-5), 5)
	if _, err := G.Grad(cost, x, gamma, beta); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i, n := range []*G.Node{x, gamma, beta} {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[i] = append(grads[i], Float64s(g.(*tensor.Dense))...)
	}
	return out, grads
}

func maxRelDiff(a, b []float64) float64 {
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(a[i]-b[i])/max(1, math.Abs(b[i])))
	}
	return worst
}

// The fused op equals the graph of Gorgonia ops, in values and in the
// gradients of x, gamma and beta.
func TestLayerNormEqualsUnfused(t *testing.T) {
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-12}, {tensor.Float32, 1e-5}} {
		got, gotGrads := runNorm(t, c.dt, fusedLayerNorm)
		want, wantGrads := runNorm(t, c.dt, unfusedLayerNorm)
		if d := maxRelDiff(got, want); d > c.tol {
			t.Errorf("%v: outputs differ by %.3g", c.dt, d)
		}
		for i, name := range []string{"x", "gamma", "beta"} {
			if d := maxRelDiff(gotGrads[i], wantGrads[i]); d > c.tol {
				t.Errorf("%v: gradient of %s differs by %.3g", c.dt, name, d)
			}
		}
	}
}
