package model

import (
	"fmt"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/gradtest"
)

// tinyConfig is small enough for exhaustive finite differences.
func tinyConfig(normFirst bool) Config {
	c := DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 8, 2, 12, 1, 1
	c.Dropout = 0
	c.NormFirst = normFirst
	c.SrcVocab, c.TgtVocab = 7, 9
	return c
}

func builder(seed int64) *graph.Builder {
	s := graph.NewStore(tensor.Float64, seed)
	s.WeightInit = graph.Normal(0.4)
	return graph.NewBuilder(s, false)
}

func mask(b *graph.Builder, name string, batch, sq, sk int, pad []bool, causal bool) *G.Node {
	n := b.Input(name, batch, 1, sq, sk)
	graph.FillAttentionMask(n.Value().(*tensor.Dense), pad, causal)
	return n
}

func TestEncoderLayerGrad(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("norm_first=%v", normFirst), func(t *testing.T) {
			b := builder(1)
			l := newEncoderLayer("enc", tinyConfig(normFirst))
			x := graph.RandomInput(b, "x", 1, 2*3, 8)
			m := mask(b, "m", 2, 3, 3, []bool{false, false, true, false, false, false}, false)
			gradtest.Check(t, b, l.Forward(b, x, 2, 3, m, nil), 25, x)
		})
	}
}

func TestDecoderLayerGrad(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("norm_first=%v", normFirst), func(t *testing.T) {
			b := builder(2)
			l := newDecoderLayer("dec", tinyConfig(normFirst))
			x := graph.RandomInput(b, "x", 1, 2*3, 8)
			mem := graph.RandomInput(b, "mem", 2, 2*4, 8)
			self := mask(b, "self", 2, 3, 3, []bool{false, false, false, false, false, true}, true)
			cross := mask(b, "cross", 2, 3, 4, []bool{false, false, false, false, false, false, true, true}, false)
			gradtest.Check(t, b, l.Forward(b, x, mem, 2, 3, 4, self, nil, cross), 25, x, mem)
		})
	}
}

func TestTransformerGrad(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"post-LN untied sinusoidal", func(c *Config) { c.TieOutput = false }},
		{"pre-LN tied learned gelu", func(c *Config) {
			c.NormFirst, c.Positions, c.MaxPositions, c.Activation = true, "learned", 6, "gelu_tanh"
		}},
		{"shared embeddings", func(c *Config) { c.ShareEmbeddings, c.SrcVocab = true, 9 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyConfig(false)
			tc.edit(&c)
			m, err := New(c, tensor.Float64, 3)
			if err != nil {
				t.Fatal(err)
			}
			b := graph.NewBuilder(m.Store, false)
			in := m.NewInputs(b, 2, 4, 3)
			if err := in.Bind([]int{4, 5, 6, data.EosID, 5, data.EosID, 0, 0}, []int{data.BosID, 7, 8, data.BosID, 4, 0}); err != nil {
				t.Fatal(err)
			}
			gradtest.Check(t, b, m.Forward(b, in), 8)
		})
	}
}

func TestSharedEmbeddingsAreOneTensor(t *testing.T) {
	c := tinyConfig(false)
	c.ShareEmbeddings, c.SrcVocab = true, 9
	m, err := New(c, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Store.Names() {
		if n == "src_embed.weight" || n == "tgt_embed.weight" || n == "output_projection.weight" {
			t.Errorf("tied model has a separate %s", n)
		}
	}
	if m.Store.Get("shared_embed.weight") == nil {
		t.Error("no shared embedding")
	}
}

func TestConfigValidate(t *testing.T) {
	c := tinyConfig(false)
	c.Heads = 3
	if err := c.Validate(); err == nil || err.(*FieldError).Field != "d_model" {
		t.Errorf("d_model 8 with 3 heads: %v", err)
	}
	c = tinyConfig(false)
	c.Dropout = 1
	if err := c.Validate(); err == nil || err.(*FieldError).Field != "dropout" {
		t.Errorf("dropout 1: %v", err)
	}
	c = tinyConfig(false)
	c.Positions = "rotary"
	if err := c.Validate(); err == nil || err.(*FieldError).Field != "positions" {
		t.Errorf("unknown positions: %v", err)
	}
}

// An encoder can be built and run without a decoder, as a research
// notebook would.
func ExampleNewEncoder() {
	c := DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers = 16, 2, 32, 2
	enc := NewEncoder("encoder", c)
	b := graph.NewBuilder(graph.NewStore(tensor.Float32, 1), false)
	x := graph.RandomInput(b, "x", 1, 3*5, 16) // 3 sequences of 5 vectors
	mask := b.Input("mask", 3, 1, 5, 5)        // no padding: all zeros
	h := enc.Forward(b, x, 3, 5, mask, nil)
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(h.Shape(), b.Store.Len(), "parameter tensors")
	// Output: (15, 16) 34 parameter tensors
}

func TestConfigRejectsBadAttention(t *testing.T) {
	for _, tc := range []struct {
		set   func(c *Config)
		field string
		want  string
	}{
		{func(c *Config) { c.Encoder.Attention.Kind = "sparse" }, "encoder.attention", "unknown attention kind"},
		{func(c *Config) { c.Decoder.Attention = AttentionConfig{Kind: "sliding_window"} }, "decoder.attention", "positive window"},
		{func(c *Config) { c.Encoder.Attention = AttentionConfig{Kind: "linear", Global: []int{0}} }, "encoder.attention", "only sliding_window"},
		{func(c *Config) {
			c.Positions = "relative"
			c.Encoder.Attention = AttentionConfig{Kind: "linear"}
		}, "encoder.attention", "need kind full"},
		{func(c *Config) {
			c.Decoder.Positions = "relative"
			c.Decoder.Attention = AttentionConfig{Kind: "sliding_window", Window: 4}
		}, "decoder.attention", "need kind full"},
		{func(c *Config) {
			c.Positions = "relative"
			c.Encoder.Attention = AttentionConfig{Chunk: 64}
		}, "encoder.attention.chunk", "chunked attention never forms"},
		{func(c *Config) { c.Decoder.Attention = AttentionConfig{Chunk: -3} }, "decoder.attention", "chunk must be positive"},
		{func(c *Config) { c.Encoder.Attention = AttentionConfig{Chunk: 1 << 20} }, "encoder.attention.chunk", "at most 2048"},
		{func(c *Config) { c.Encoder.Attention = AttentionConfig{Kind: "linear", Chunk: 64} }, "encoder.attention", "only full attention"},
		{func(c *Config) { c.Encoder.Positions = "rotary" }, "encoder.positions", "unknown positional encoding"},
		{func(c *Config) { c.Positions, c.RelativeBuckets, c.RelativeMaxDistance = "relative", 32, 8 }, "relative_max_distance", "at least"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		err := c.Validate()
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("error %v, want field %s with %q", err, tc.field, tc.want)
		}
	}
	c := DefaultConfig()
	c.Encoder = StackConfig{Attention: AttentionConfig{Kind: "sliding_window", Window: 8, Global: []int{0}}}
	c.Decoder = StackConfig{Attention: AttentionConfig{Kind: "linear"}}
	c.Positions = "relative"
	c.Encoder.Positions, c.Decoder.Positions = "sinusoidal", "learned"
	if err := c.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	if c.IncrementalDecoding() {
		t.Error("a linear-attention decoder cannot decode incrementally")
	}
}

// A model with sparse and linear attention and relative positions builds,
// and greedy decoding (which then recomputes each step) matches beam 1.
func TestAttentionKindsDecode(t *testing.T) {
	c := DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 16, 2, 32, 1, 1
	c.SrcVocab, c.TgtVocab = 20, 20
	c.Encoder = StackConfig{Attention: AttentionConfig{Kind: "sliding_window", Window: 2, Global: []int{0}}}
	c.Decoder = StackConfig{Attention: AttentionConfig{Kind: "linear"}}
	for _, pos := range []string{"sinusoidal", "relative"} {
		c.Positions = pos
		if pos == "relative" {
			c.Encoder = StackConfig{}
			c.Decoder = StackConfig{Attention: AttentionConfig{Kind: "sliding_window", Window: 3}, Positions: "sinusoidal"}
		}
		m, err := New(c, tensor.Float64, 3)
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTranslator(m, 8)
		srcs := [][]int{{5, 6, 7, 8, 9, 10, 11, 3}, {12, 13, 3}}
		g, err := tr.Greedy(srcs, DecodeOptions{MaxLen: 6})
		if err != nil {
			t.Fatal(err)
		}
		bm, err := tr.Beam(srcs, BeamOptions{DecodeOptions: DecodeOptions{MaxLen: 6}, Beam: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range g {
			if fmt.Sprint(g[i]) != fmt.Sprint(bm[i][0].Tokens) {
				t.Errorf("%s: greedy %v, beam 1 %v", pos, g[i], bm[i][0].Tokens)
			}
		}
		tr.Close()
	}
}
