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
	checkGrads(t, "cross-entropy", b, CrossEntropyRows(logits, target), G.Nodes{logits})
}

// The fused op's losses and gradient equal those of −target ⊙ log softmax
// summed over each row, built from separate ops; the padding row gets no
// gradient.
func TestCrossEntropyRowsEqualsUnfused(t *testing.T) {
	fused := func(b *Builder) (*G.Node, G.Nodes) {
		logits, target := crossEntropyInputs(b)
		return CrossEntropyRows(logits, target), G.Nodes{logits}
	}
	unfused := func(b *Builder) (*G.Node, G.Nodes) {
		logits, target := crossEntropyInputs(b)
		return CrossEntropyRowsComposed(logits, target), G.Nodes{logits}
	}
	for _, c := range tolerances {
		compareFused(t, "cross-entropy", c.dt, c.tol, fused, unfused)
		_, grads := outputAndGrads(t, c.dt, fused)
		for j := 6; j < 12; j++ {
			if grads[0][j] != 0 {
				t.Fatalf("%v: padding row has gradient %v", c.dt, grads[0][6:12])
			}
		}
	}
}
