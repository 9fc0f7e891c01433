package model

import (
	"fmt"
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
			gradtest.Check(t, b, l.Forward(b, x, 2, 3, m), 25, x)
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
			gradtest.Check(t, b, l.Forward(b, x, mem, 2, 3, 4, self, cross), 25, x, mem)
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
	h := enc.Forward(b, x, 3, 5, mask)
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(h.Shape(), b.Store.Len(), "parameter tensors")
	// Output: (15, 16) 34 parameter tensors
}
