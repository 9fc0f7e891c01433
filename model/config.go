package model

import (
	"errors"
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
	Positions        string  `yaml:"positions"`      // sinusoidal | learned | relative
	MaxPositions     int     `yaml:"max_positions"`  // table size for learned positions
	ShareEmbeddings  bool    `yaml:"share_embeddings"`
	TieOutput        bool    `yaml:"tie_output"` // target embedding doubles as output projection
	Init             string  `yaml:"init"`       // xavier_uniform | xavier_normal | normal

	// Encoder and Decoder choose each stack's self-attention and, if set,
	// override Positions for that stack.
	Encoder StackConfig `yaml:"encoder,omitempty"`
	Decoder StackConfig `yaml:"decoder,omitempty"`
	// RelativeBuckets and RelativeMaxDistance size the T5 relative-position
	// bias of stacks with relative positions.
	RelativeBuckets     int `yaml:"relative_buckets,omitempty"`
	RelativeMaxDistance int `yaml:"relative_max_distance,omitempty"`

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

// StackConfig is the per-stack part of a Config: the kind of
// self-attention and the positions.
type StackConfig struct {
	Attention AttentionConfig `yaml:"attention,omitempty"`
	Positions string          `yaml:"positions,omitempty"` // "": the model's positions
}

// AttentionConfig is the YAML form of layers.AttentionSpec:
//
//	attention: {kind: sliding_window, window: 64, global: [0]}
type AttentionConfig struct {
	Kind   string `yaml:"kind,omitempty"` // full (default) | sliding_window | linear
	Window int    `yaml:"window,omitempty"`
	Global []int  `yaml:"global,omitempty,flow"`
	Chunk  int    `yaml:"chunk,omitempty"` // full attention in blocks of chunk queries × keys
}

// Spec is the attention of a stack; causal for the decoder.
func (a AttentionConfig) Spec(causal bool) layers.AttentionSpec {
	return layers.AttentionSpec{Kind: a.Kind, Window: a.Window, Global: a.Global, Causal: causal, Chunk: a.Chunk}
}

// String describes the attention for logs: "full", "full in 256×256
// chunks", "sliding_window (window 8, global [0])".
func (a AttentionConfig) String() string {
	kind := a.Kind
	if kind == "" {
		kind = layers.FullAttention
	}
	switch {
	case a.Chunk > 0:
		return fmt.Sprintf("%s in %d×%d chunks", kind, a.Chunk, a.Chunk)
	case a.Window > 0 || len(a.Global) > 0:
		return fmt.Sprintf("%s (window %d, global %v)", kind, a.Window, a.Global)
	}
	return kind
}

// EncoderPositions is the positional scheme of the encoder stack.
func (c Config) EncoderPositions() string { return orDefault(c.Encoder.Positions, c.Positions) }

// DecoderPositions is the positional scheme of the decoder stack.
func (c Config) DecoderPositions() string { return orDefault(c.Decoder.Positions, c.Positions) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// PositionParams are the parameters of the positional encoding of the
// stack "encoder" or "decoder", named embedName on the embedding side.
func (c Config) PositionParams(stack, embedName string) layers.PositionParams {
	return layers.PositionParams{Name: embedName, Stack: stack, DModel: c.DModel, Heads: c.Heads, MaxLen: c.MaxPositions,
		Buckets: orInt(c.RelativeBuckets, 32), MaxDistance: orInt(c.RelativeMaxDistance, 128), Causal: stack == "decoder"}
}

// stackPositions builds the positional encoding of a stack; the config is
// valid, so the kind exists.
func (c Config) stackPositions(stack, embedName string) layers.PositionalEncoding {
	kind := c.EncoderPositions()
	if stack == "decoder" {
		kind = c.DecoderPositions()
	}
	p, err := layers.NewPositions(kind, c.PositionParams(stack, embedName))
	if err != nil {
		panic("model: " + err.Error())
	}
	return p
}

// IncrementalDecoding reports whether the decoder supports cached
// one-position steps: a kind of attention with a cached step (full) and
// absolute positions; other decoders recompute every position at each step.
func (c Config) IncrementalDecoding() bool {
	k, err := layers.Positions(c.DecoderPositions())
	return err == nil && k.Absolute && c.Decoder.Attention.Spec(true).IsFull()
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
		max  int
	}{{"d_model", c.DModel, MaxDModel}, {"heads", c.Heads, MaxHeads}, {"encoder_layers", c.EncoderLayers, MaxLayers},
		{"decoder_layers", c.DecoderLayers, MaxLayers}, {"ff_dim", c.FFDim, MaxFFDim}} {
		bad(p.v <= 0, p.name, "must be positive, got %d", p.v)
		bad(p.v > p.max, p.name, "must be at most %d, got %d", p.max, p.v)
	}
	bad(c.SrcVocab > MaxVocab || c.TgtVocab > MaxVocab, "vocabulary", "at most %d tokens per side, got %d source and %d target", MaxVocab, c.SrcVocab, c.TgtVocab)
	bad(c.Heads > 0 && c.DModel%c.Heads != 0, "d_model", "%d is not divisible by heads (%d)", c.DModel, c.Heads)
	bad(c.DModel%2 != 0 && c.Positions == "sinusoidal", "d_model", "must be even for sinusoidal positions, got %d", c.DModel)
	// Comparisons are written so that NaN fails them.
	bad(!(c.Dropout >= 0 && c.Dropout < 1), "dropout", "must be in [0, 1), got %g", c.Dropout)
	bad(!(c.AttentionDropout >= 0 && c.AttentionDropout < 1), "attention_dropout", "must be in [0, 1), got %g", c.AttentionDropout)
	bad(!(c.LayerNormEps > 0 && c.LayerNormEps <= 1), "layer_norm_eps", "must be in (0, 1], got %g", c.LayerNormEps)
	if err := layers.CheckActivation(c.Activation); err != nil {
		bad(true, "activation", "%v", err)
	}
	if _, err := layers.Positions(c.Positions); err != nil {
		bad(true, "positions", "%v", err)
	}
	bad(c.MaxPositions < 0 || c.MaxPositions > MaxPositions, "max_positions", "must be in [0, %d], got %d", MaxPositions, c.MaxPositions)
	checked := map[string]bool{}
	for _, st := range []struct {
		name string
		s    StackConfig
	}{{"encoder", c.Encoder}, {"decoder", c.Decoder}} {
		pos := orDefault(st.s.Positions, c.Positions)
		kind, err := layers.Positions(pos)
		if err != nil {
			if st.s.Positions != "" {
				bad(true, st.name+".positions", "%v", err)
			}
			continue
		}
		if kind.UsesMaxLen && !checked["max_positions"] {
			checked["max_positions"] = true
			bad(c.MaxPositions <= 0, "max_positions", "must be positive for %s positions, got %d", pos, c.MaxPositions)
		}
		if kind.Check != nil && !checked[pos] {
			checked[pos] = true
			if err := kind.Check(c.PositionParams(st.name, "")); err != nil {
				var ke *layers.KeyError
				if errors.As(err, &ke) {
					bad(true, ke.Key, "%s", ke.Msg)
				} else {
					bad(true, "positions", "%v", err)
				}
			}
		}
		if err := st.s.Attention.Spec(false).Check(); err != nil {
			bad(true, st.name+".attention", "%v", err)
			continue
		}
		a := st.s.Attention
		bad(a.Window > MaxWindow, st.name+".attention.window", "must be at most %d, got %d", MaxWindow, a.Window)
		bad(a.Chunk > MaxChunk, st.name+".attention.chunk", "must be at most %d, got %d", MaxChunk, a.Chunk)
		bad(len(a.Global) > MaxGlobalTokens, st.name+".attention.global", "at most %d global positions, got %d", MaxGlobalTokens, len(a.Global))
		for _, g := range a.Global {
			bad(g > maxGlobalPosDist, st.name+".attention.global", "position %d is beyond %d", g, maxGlobalPosDist)
		}
		enc, err := kind.New(c.PositionParams(st.name, ""))
		if err != nil {
			bad(true, st.name+".positions", "%v", err)
			continue
		}
		_, scores := enc.(layers.ScorePositions)
		bad(scores && a.Spec(false).IsFull() && a.Chunk > 0, st.name+".attention.chunk",
			"%s positions add a bias to the full n×n attention scores, which chunked attention never forms; remove chunk or use sinusoidal, learned or rope positions", pos)
		bad(scores && !a.Spec(false).IsFull(), st.name+".attention",
			"%s positions add a bias to the full n×n attention scores, so they need kind full, not %s; use sinusoidal or learned positions with %s attention",
			pos, a.Kind, a.Kind)
	}
	if _, err := graph.InitByName(c.Init); err != nil {
		bad(true, "init", "%v", err)
	}
	bad(c.ShareEmbeddings && c.SrcVocab != 0 && c.SrcVocab != c.TgtVocab, "share_embeddings",
		"needs one joint vocabulary, got %d source and %d target tokens", c.SrcVocab, c.TgtVocab)
	return out
}
