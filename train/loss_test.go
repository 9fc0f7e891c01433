package train

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/gradtest"
	"github.com/gotransformer/transformer/rundir"
)

func smoothedLossGraph(t *testing.T, eps float64, gold []int) (*graph.Builder, *G.Node, *G.Node, int) {
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
	logits := graph.RandomInput(b, "logits", 3, len(gold), 6)
	loss, target := LabelSmoothedCE(b, logits)
	n := FillTargets(target.Value().(*tensor.Dense), gold, eps)
	return b, logits, loss, n
}

func TestLabelSmoothedCEGrad(t *testing.T) {
	b, logits, loss, _ := smoothedLossGraph(t, 0.1, []int{4, 5, data.PadID, 2})
	res, err := graph.GradCheck(loss, G.Nodes{logits}, graph.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].MaxRelErr > gradtest.Tol {
		t.Errorf("loss gradient: max relative error %g", res[0].MaxRelErr)
	}
	_ = b
}

// The graph loss equals PyTorch's definition, computed here directly:
// mean over non-padding rows of (1−ε)·NLL + ε·mean_v(−log p_v); padding
// rows contribute nothing, and their logits get no gradient.
func TestLabelSmoothedCEValueAndPadding(t *testing.T) {
	gold := []int{4, 5, data.PadID, 2}
	const eps = 0.1
	b, logits, loss, n := smoothedLossGraph(t, eps, gold)
	if n != 3 {
		t.Fatalf("%d tokens counted, want 3", n)
	}
	if _, err := G.Grad(loss, logits); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	x := logits.Value().Data().([]float64)
	want := 0.0
	for i, g := range gold {
		if g == data.PadID {
			continue
		}
		row := x[i*6 : (i+1)*6]
		var z float64
		for _, v := range row {
			z += math.Exp(v)
		}
		lse := math.Log(z)
		smooth := 0.0
		for _, v := range row {
			smooth += (lse - v) / 6
		}
		want += (1-eps)*(lse-row[g]) + eps*smooth
	}
	want /= 3
	if got := loss.Value().Data().(float64); math.Abs(got-want) > 1e-12 {
		t.Errorf("loss %.15g, want %.15g", got, want)
	}
	var st TokenStats
	st.Add(x, gold, 6, eps)
	if math.Abs(st.Loss()-want) > 1e-12 {
		t.Errorf("TokenStats loss %.15g, want %.15g", st.Loss(), want)
	}
	g, _ := logits.Grad()
	for j, v := range g.Data().([]float64)[2*6 : 3*6] {
		if v != 0 {
			t.Errorf("padding row gradient[%d] = %g", j, v)
		}
	}
}

// A float32 batch of the size real training uses (4,000 target positions
// × a 5,000-token vocabulary) gets the loss a float64 computation gives. A
// plain float32 sum over the 20 million products of target and log
// softmax lost about 9% of the loss at this size; the fused op sums each
// row in float64.
func TestLabelSmoothedCELargeBatchFloat32(t *testing.T) {
	const n, v, eps = 4000, 5000, 0.1
	b := graph.NewBuilder(graph.NewStore(tensor.Float32, 1), false)
	logits := graph.RandomInput(b, "logits", 3, n, v)
	loss, target := LabelSmoothedCE(b, logits)
	gold := make([]int, n)
	for i := range gold {
		gold[i] = 4 + i%(v-4)
		if i%7 == 0 {
			gold[i] = data.PadID
		}
	}
	real := FillTargets(target.Value().(*tensor.Dense), gold, eps)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := float64(loss.Value().Data().(float32))
	x := logits.Value().Data().([]float32)
	want := 0.0
	for i, g := range gold {
		if g == data.PadID {
			continue
		}
		row := x[i*v : (i+1)*v]
		m, sum := math.Inf(-1), 0.0
		for _, z := range row {
			m = math.Max(m, float64(z))
		}
		for _, z := range row {
			sum += math.Exp(float64(z) - m)
		}
		lse := m + math.Log(sum)
		smooth := 0.0
		for _, z := range row {
			smooth += lse - float64(z)
		}
		want += (1-eps)*(lse-float64(row[g])) + eps*smooth/v
	}
	want /= float64(real)
	if math.Abs(got-want) > 1e-5*want {
		t.Errorf("loss %.6f, float64 computation %.6f", got, want)
	}
}

func TestClipGlobalNorm(t *testing.T) {
	a := graph.FromFloat64s(tensor.Float64, []float64{3, 0}, 2)
	b := graph.FromFloat64s(tensor.Float32, []float64{4}, 1)
	grads := []Param{{"a", a}, {"b", b}}
	if n := ClipGlobalNorm(grads, 1); n != 5 {
		t.Fatalf("norm %g, want 5", n)
	}
	if got := a.Data().([]float64)[0]; math.Abs(got-0.6) > 1e-12 {
		t.Errorf("a scaled to %g, want 0.6", got)
	}
	if n := ClipGlobalNorm(grads, 10); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping %g, want 1", n)
	}
}

func TestSchedules(t *testing.T) {
	noam, _ := rundir.NewSchedule("noam", 2, 100, 64)
	if got, want := noam.Rate(100), 2*math.Pow(64, -0.5)*math.Pow(100, -0.5); math.Abs(got-want) > 1e-15 {
		t.Errorf("noam peak %g, want %g", got, want)
	}
	if noam.Rate(50) >= noam.Rate(100) || noam.Rate(400) >= noam.Rate(100) {
		t.Error("noam does not peak at warmup")
	}
	inv, _ := rundir.NewSchedule("inverse_sqrt", 1e-3, 100, 64)
	if got := inv.Rate(400); math.Abs(got-5e-4) > 1e-15 {
		t.Errorf("inverse_sqrt(400) = %g, want 5e-4", got)
	}
	c, _ := rundir.NewSchedule("constant", 1e-3, 0, 64)
	if c.Rate(1) != 1e-3 || c.Rate(10000) != 1e-3 {
		t.Error("constant is not constant")
	}
	if _, err := rundir.NewSchedule("cosine", 1, 1, 1); err == nil {
		t.Error("unknown schedule accepted")
	}
}

// Adam's first step moves every parameter by lr·sign(g) (bias correction
// makes m̂/sqrt(v̂) = g/|g|).
func TestAdamFirstStep(t *testing.T) {
	p := graph.FromFloat64s(tensor.Float64, []float64{1, 1, 1}, 3)
	g := graph.FromFloat64s(tensor.Float64, []float64{0.5, -2, 1e-3}, 3)
	a := NewAdam(0.9, 0.98, 1e-9)
	if err := a.Update([]Param{{"p", p}}, []Param{{"p", g}}, 0.1); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.9, 1.1, 0.9} {
		if got := p.Data().([]float64)[i]; math.Abs(got-want) > 1e-6 {
			t.Errorf("p[%d] = %g, want %g", i, got, want)
		}
	}
}

// GoldCE on FillGold's [N, 2] target gives the loss and gradient of
// SmoothedCE on FillTargetsOver's dense one, with padding rows and a
// micro-batch norm, in float64 and float32.
func TestGoldCEEqualsDenseSmoothedCE(t *testing.T) {
	gold := []int{4, 5, data.PadID, 2, 9, data.PadID, 3}
	const eps, v, norm = 0.1, 11, 9
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-12}, {tensor.Float32, 1e-5}} {
		run := func(dense bool) (loss float64, grad []float64) {
			b := graph.NewBuilder(graph.NewStore(c.dt, 1), false)
			logits := graph.RandomInput(b, "logits", 5, len(gold), v)
			var out *G.Node
			if dense {
				target := b.Input("target", len(gold), v)
				FillTargetsOver(target.Value().(*tensor.Dense), gold, eps, norm)
				out = SmoothedCE(b, logits, target)
			} else {
				target := b.Input("target", len(gold), 2)
				if n := FillGold(target.Value().(*tensor.Dense), gold, norm); n != 5 {
					t.Fatalf("FillGold counted %d tokens, want 5", n)
				}
				out = GoldCE(eps)(b, logits, target)
			}
			if _, err := G.Grad(out, logits); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(b.G)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			g, _ := logits.Grad()
			return scalar(out), graph.Float64s(g.(*tensor.Dense))
		}
		lg, gg := run(false)
		ld, gd := run(true)
		if math.Abs(lg-ld) > c.tol*math.Abs(ld) {
			t.Errorf("%v: gold loss %v, dense %v", c.dt, lg, ld)
		}
		for i := range gd {
			if math.Abs(gg[i]-gd[i]) > c.tol*(1e-3+math.Abs(gd[i])) {
				t.Fatalf("%v: gradient %d: gold %v, dense %v", c.dt, i, gg[i], gd[i])
			}
		}
	}
}
