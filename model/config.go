package model

import (
	"fmt"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// Config describes an encoder-decoder Transformer. Its YAML form is the
// "model" section of a training config.
type Config struct {
	DModel           int     `yaml:"d_model"`
	Heads            int     `yaml:"heads"`
	EncoderLayers    int     `yaml:"encoder_layers"`
	DecoderLayers    int     `yaml:"decoder_layers"`
	FFDim            int     `yaml:"ff_dim"`
	Dropout          float64 `yaml:"dropout"`
	AttentionDropout float64 `yaml:"attention_dropout"`
	Activation       string  `yaml:"activation"`     // relu | gelu (exact) | gelu_tanh
	NormFirst        bool    `yaml:"norm_first"`     // pre-LN instead of post-LN
	FinalNorm        bool    `yaml:"final_norm"`     // layer norm after each stack
	LayerNormEps     float64 `yaml:"layer_norm_eps"` // ε of every layer norm
	Positions        string  `yaml:"positions"`      // sinusoidal | learned
	MaxPositions     int     `yaml:"max_positions"`  // table size for learned positions
	ShareEmbeddings  bool    `yaml:"share_embeddings"`
	TieOutput        bool    `yaml:"tie_output"` // target embedding doubles as output projection
	Init             string  `yaml:"init"`       // xavier_uniform | xavier_normal | normal

	// Vocabulary sizes come from the tokenizers, not from YAML.
	SrcVocab int `yaml:"-"`
	TgtVocab int `yaml:"-"`
}

// DefaultConfig is a small post-LN Transformer, the shape of the
// Annotated Transformer scaled down for a CPU.
func DefaultConfig() Config {
	return Config{DModel: 128, Heads: 4, EncoderLayers: 2, DecoderLayers: 2, FFDim: 512,
		Dropout: 0.1, Activation: "relu", FinalNorm: true, LayerNormEps: 1e-5,
		Positions: "sinusoidal", MaxPositions: 256, TieOutput: true, Init: "xavier_uniform"}
}

// FieldError is a validation failure of one config field, named by its YAML
// key (for example "heads").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks sizes, probabilities and names. The error is a
// *FieldError naming the offending key.
func (c Config) Validate() error {
	if p := c.Problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// Problems returns every validation failure, each a *FieldError.
func (c Config) Problems() []error {
	var out []error
	bad := func(cond bool, f, format string, a ...any) {
		if cond {
			out = append(out, &FieldError{f, fmt.Sprintf(format, a...)})
		}
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"d_model", c.DModel}, {"heads", c.Heads}, {"encoder_layers", c.EncoderLayers}, {"decoder_layers", c.DecoderLayers}, {"ff_dim", c.FFDim}} {
		bad(p.v <= 0, p.name, "must be positive, got %d", p.v)
	}
	bad(c.Heads > 0 && c.DModel%c.Heads != 0, "d_model", "%d is not divisible by heads (%d)", c.DModel, c.Heads)
	bad(c.DModel%2 != 0 && c.Positions == "sinusoidal", "d_model", "must be even for sinusoidal positions, got %d", c.DModel)
	bad(c.Dropout < 0 || c.Dropout >= 1, "dropout", "must be in [0, 1), got %g", c.Dropout)
	bad(c.AttentionDropout < 0 || c.AttentionDropout >= 1, "attention_dropout", "must be in [0, 1), got %g", c.AttentionDropout)
	bad(c.LayerNormEps <= 0, "layer_norm_eps", "must be positive, got %g", c.LayerNormEps)
	if err := layers.CheckActivation(c.Activation); err != nil {
		bad(true, "activation", "%v", err)
	}
	if _, err := layers.NewPositions(c.Positions, "", c.DModel, c.MaxPositions); err != nil {
		bad(true, "positions", "%v", err)
	}
	bad(c.Positions == "learned" && c.MaxPositions <= 0, "max_positions", "must be positive for learned positions, got %d", c.MaxPositions)
	if _, err := graph.InitByName(c.Init); err != nil {
		bad(true, "init", "%v", err)
	}
	bad(c.ShareEmbeddings && c.SrcVocab != 0 && c.SrcVocab != c.TgtVocab, "share_embeddings",
		"needs one joint vocabulary, got %d source and %d target tokens", c.SrcVocab, c.TgtVocab)
	return out
}
