package graph

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// goldRows are the gold ids and weights of crossEntropyInputs' dense
// target: ε = 0.1, weight 1/3, row 1 padding.
var goldRows = []float64{2, 1.0 / 3, 0, 0, 0, 1.0 / 3, 5, 1.0 / 3}

func goldInputs(b *Builder) (logits, gold *G.Node) {
	logits = RandomInput(b, "logits", 1, 4, 6)
	gold = b.Input("gold", 4, 2)
	copy64To(gold.Value().(*tensor.Dense), goldRows)
	return logits, gold
}

func TestGoldCrossEntropyRowsGradCheck(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	logits, gold := goldInputs(b)
	checkGrads(t, "gold cross-entropy", b, GoldCrossEntropyRows(logits, gold, 0.1), G.Nodes{logits})
}

// The gold op's losses and gradient equal those of CrossEntropyRows
// against the dense smoothed target, and of its composed reference; the
// padding row gets no gradient.
func TestGoldCrossEntropyRowsEqualsDense(t *testing.T) {
	gold := func(b *Builder) (*G.Node, G.Nodes) {
		logits, g := goldInputs(b)
		return GoldCrossEntropyRows(logits, g, 0.1), G.Nodes{logits}
	}
	dense := func(b *Builder) (*G.Node, G.Nodes) {
		logits, target := crossEntropyInputs(b)
		return CrossEntropyRows(logits, target), G.Nodes{logits}
	}
	composed := func(b *Builder) (*G.Node, G.Nodes) {
		logits, target := crossEntropyInputs(b)
		return CrossEntropyRowsComposed(logits, target), G.Nodes{logits}
	}
	for _, c := range tolerances {
		compareFused(t, "gold against dense", c.dt, c.tol, gold, dense)
		compareFused(t, "gold against composed", c.dt, c.tol, gold, composed)
		_, grads := outputAndGrads(t, c.dt, gold)
		for j := 6; j < 12; j++ {
			if grads[0][j] != 0 {
				t.Fatalf("%v: padding row has gradient %v", c.dt, grads[0][6:12])
			}
		}
	}
}

// An id outside the vocabulary, or not an integer, fails the run with an
// error naming the row; a padding row's id is not read.
func TestGoldCrossEntropyRowsBadIDs(t *testing.T) {
	for _, bad := range []float64{6, -1, 2.5} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		logits, gold := goldInputs(b)
		rows := append([]float64(nil), goldRows...)
		rows[2] = 99 // the padding row: ignored
		rows[4] = bad
		copy64To(gold.Value().(*tensor.Dense), rows)
		GoldCrossEntropyRows(logits, gold, 0.1)
		vm := G.NewTapeMachine(b.G)
		err := vm.RunAll()
		vm.Close()
		if err == nil || !strings.Contains(err.Error(), "row 2's gold id") {
			t.Fatalf("id %v: error %v, want one naming row 2's gold id", bad, err)
		}
	}
}
