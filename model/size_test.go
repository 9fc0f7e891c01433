package model

import (
	"testing"

	"gorgonia.org/tensor"
)

// ParamCount, computed from the sizes, agrees with the built model for
// every kind of embedding, output, position and norm the config offers.
func TestParamCountMatchesModel(t *testing.T) {
	base := DefaultConfig()
	base.DModel, base.Heads, base.FFDim, base.EncoderLayers, base.DecoderLayers = 16, 2, 24, 2, 1
	base.SrcVocab, base.TgtVocab = 11, 13
	variants := map[string]func(c *Config){
		"default":       func(c *Config) {},
		"untied":        func(c *Config) { c.TieOutput = false },
		"shared":        func(c *Config) { c.ShareEmbeddings = true; c.SrcVocab = c.TgtVocab },
		"learned":       func(c *Config) { c.Positions = "learned"; c.MaxPositions = 40 },
		"relative":      func(c *Config) { c.Positions = "relative"; c.RelativeBuckets = 8; c.RelativeMaxDistance = 20 },
		"mixed":         func(c *Config) { c.Decoder.Positions = "learned"; c.MaxPositions = 9 },
		"no final norm": func(c *Config) { c.FinalNorm = false; c.NormFirst = true },
		"sliding":       func(c *Config) { c.Encoder.Attention = AttentionConfig{Kind: "sliding_window", Window: 2} },
	}
	for name, v := range variants {
		c := base
		v(&c)
		m, err := New(c, tensor.Float32, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := c.ParamCount(), int64(m.ParamCounts()["total"]); got != want {
			t.Errorf("%s: ParamCount %d, model has %d", name, got, want)
		}
	}
}
