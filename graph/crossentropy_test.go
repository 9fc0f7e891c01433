package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// crossEntropyInputs adds logits [4, 6] and a smoothed, scaled target with
// an all-zero (padding) row.
func crossEntropyInputs(b *Builder) (logits, target *G.Node) {
	logits = RandomInput(b, "logits", 1, 4, 6)
	target = b.Input("target", 4, 6)
	tv := make([]float64, 24)
	for r, gold := range []int{2, -1, 0, 5} {
		for j := 0; j < 6; j++ {
			if gold < 0 {
				continue
			}
			tv[r*6+j] = 0.1 / 6 / 3
			if j == gold {
				tv[r*6+j] += 0.9 / 3
			}
		}
	}
	copy64To(target.Value().(*tensor.Dense), tv)
	return logits, target
}

func TestCrossEntropyRowsGradCheck(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	logits, target := crossEntropyInputs(b)
	res, err := GradCheckOutput(b, CrossEntropyRows(logits, target), G.Nodes{logits}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].MaxRelErr > 1e-7 {
		t.Errorf("max relative error %g", res[0].MaxRelErr)
	}
}

// The fused op's loss and gradient equal those of −Σ target ⊙ log softmax
// built from separate ops.
func TestCrossEntropyRowsEqualsUnfused(t *testing.T) {
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-13}, {tensor.Float32, 1e-6}} {
		run := func(fused bool) (loss float64, grad []float64) {
			b := NewBuilder(NewStore(c.dt, 1), false)
			logits, target := crossEntropyInputs(b)
			var cost *G.Node
			if fused {
				cost = G.Must(G.Sum(CrossEntropyRows(logits, target)))
			} else {
				cost = G.Must(G.Neg(G.Must(G.Sum(G.Must(G.HadamardProd(LogSoftMax(logits), target))))))
			}
			if _, err := G.Grad(cost, logits); err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(b.G)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			g, err := logits.Grad()
			if err != nil {
				t.Fatal(err)
			}
			switch v := cost.Value().Data().(type) {
			case float32:
				loss = float64(v)
			case float64:
				loss = v
			}
			return loss, append([]float64(nil), Float64s(g.(*tensor.Dense))...)
		}
		gotLoss, gotGrad := run(true)
		wantLoss, wantGrad := run(false)
		if d := maxRelDiff([]float64{gotLoss}, []float64{wantLoss}); d > c.tol || gotLoss <= 0 {
			t.Errorf("%v: loss %g, unfused %g", c.dt, gotLoss, wantLoss)
		}
		if d := maxRelDiff(gotGrad, wantGrad); d > c.tol {
			t.Errorf("%v: gradients differ by %.3g", c.dt, d)
		}
		for j := 6; j < 12; j++ {
			if gotGrad[j] != 0 {
				t.Fatalf("%v: padding row has gradient %v", c.dt, gotGrad[6:12])
			}
		}
	}
}
