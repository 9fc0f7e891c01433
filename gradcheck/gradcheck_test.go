package gradcheck

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/gradtest"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
)

// Every built-in case of `transformer gradcheck` passes.
func TestGradCases(t *testing.T) {
	names := Names()
	if len(names) < 15 {
		t.Fatalf("only %d cases", len(names))
	}
	for _, n := range names {
		res, err := Run(context.Background(), n, graph.GradCheckOptions{})
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

func TestModel(t *testing.T) {
	c := rundir.DefaultConfig().Model
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 16, 2, 24, 1, 2
	res, err := Model(context.Background(), c, 11, 13, graph.GradCheckOptions{Step: 1e-5, MaxPerTensor: 6, Seed: 1})
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
		"chunked full attention, encoder and decoder": func(c *model.Config) {
			c.Encoder.Attention = model.AttentionConfig{Chunk: 2}
			c.Decoder.Attention = model.AttentionConfig{Chunk: 2}
		},
		"relative positions": func(c *model.Config) {
			c.Positions, c.RelativeBuckets, c.RelativeMaxDistance = "relative", 8, 16
		},
	} {
		c := rundir.DefaultConfig().Model
		c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 8, 2, 12, 1, 1
		set(&c)
		res, err := Model(context.Background(), c, 11, 13, graph.GradCheckOptions{Step: 1e-5, MaxPerTensor: 4, Seed: 1})
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

// A whole-model gradient check refuses models too large for float64 finite
// differences before building them, and bounds the elements perturbed
// (bug 6).
func TestGradCheckModelBounds(t *testing.T) {
	c := rundir.DefaultConfig().Model
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 1024, 8, 4096, 4, 4
	if _, err := Model(context.Background(), c, 23, 29, graph.GradCheckOptions{Step: 1e-5, MaxPerTensor: 4}); err == nil || !strings.Contains(err.Error(), "parameters, more than the 2000000") {
		t.Errorf("big model: %v", err)
	}
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 32, 4, 64, 1, 1
	if _, err := Model(context.Background(), c, 23, 29, graph.GradCheckOptions{Step: 1e-5}); err == nil || !strings.Contains(err.Error(), "perturbs 23197 elements of this model, two forward passes each; at most 10000") {
		t.Errorf("every element of a 23,197-parameter model: %v", err)
	}
	for _, opt := range []graph.GradCheckOptions{{Step: math.NaN()}, {Step: math.Inf(1)}, {Step: 1e308}, {Step: 1e-5, MaxPerTensor: 1000000000}} {
		if _, err := Model(context.Background(), c, 11, 13, opt); err == nil {
			t.Errorf("%+v accepted", opt)
		}
	}
}

// A cancelled context stops a check before its first forward pass.
func TestGradCheckStopsOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, "attention", graph.GradCheckOptions{}); err != context.Canceled {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	c := rundir.DefaultConfig().Model
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 8, 2, 12, 1, 1
	if _, err := Model(ctx, c, 11, 13, graph.GradCheckOptions{MaxPerTensor: 2}); err != context.Canceled {
		t.Errorf("Model: %v, want context.Canceled", err)
	}
}
