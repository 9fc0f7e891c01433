package train

import (
	"testing"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/gradtest"
	"github.com/gotransformer/transformer/model"
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

// The whole model passes the gradient check with each attention kind and
// with relative positions.
func TestGradCheckModelAttentionKinds(t *testing.T) {
	for name, set := range map[string]func(c *model.Config){
		"sliding window encoder and decoder": func(c *model.Config) {
			c.Encoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 1, Global: []int{0}}
			c.Decoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 1}
		},
		"linear encoder and decoder": func(c *model.Config) {
			c.Encoder.Attention = model.AttentionConfig{Kind: "linear"}
			c.Decoder.Attention = model.AttentionConfig{Kind: "linear"}
		},
		"relative positions": func(c *model.Config) {
			c.Positions, c.RelativeBuckets, c.RelativeMaxDistance = "relative", 8, 16
		},
	} {
		c := DefaultConfig().Model
		c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 8, 2, 12, 1, 1
		set(&c)
		res, err := GradCheckModel(c, 11, 13, graph.GradCheckOptions{Step: 1e-5, MaxPerTensor: 4, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range res {
			if !(r.MaxRelErr <= gradtest.Tol) {
				t.Errorf("%s: %s: relative error %.3g", name, r.Name, r.MaxRelErr)
			}
		}
		if name == "relative positions" && !checked(res, "encoder.relative_bias.weight") {
			t.Errorf("relative positions: the bias table was not checked")
		}
	}
}

func checked(res []graph.GradResult, name string) bool {
	for _, r := range res {
		if r.Name == name {
			return true
		}
	}
	return false
}
