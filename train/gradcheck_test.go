package train

import (
	"testing"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/gradtest"
)

// Every built-in case of `transformer gradcheck` passes.
func TestGradCases(t *testing.T) {
	names := GradCaseNames()
	if len(names) < 15 {
		t.Fatalf("only %d cases", len(names))
	}
	for _, n := range names {
		res, err := GradCheckCase(n, graph.GradCheckOptions{})
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, r := range res {
			if !(r.MaxRelErr <= gradtest.Tol) {
				t.Errorf("%s: %s: relative error %.3g", n, r.Name, r.MaxRelErr)
			}
		}
	}
}

func TestGradCheckModel(t *testing.T) {
	c := DefaultConfig().Model
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 16, 2, 24, 1, 2
	res, err := GradCheckModel(c, 11, 13, graph.GradCheckOptions{Step: 1e-5, MaxPerTensor: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) < 40 {
		t.Fatalf("%d tensors checked", len(res))
	}
	for _, r := range res {
		if !(r.MaxRelErr <= gradtest.Tol) {
			t.Errorf("%s: relative error %.3g", r.Name, r.MaxRelErr)
		}
	}
}
