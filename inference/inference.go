// Package inference is the one-call API for Go programs and notebooks: load
// a run directory written by `transformer train`, then translate sentences,
// greedily or by beam search, with scores and (on request) attention maps.
//
//	m, err := inference.Load("checkpoints/numbers-en-de")
//	...
//	defer m.Close()
//	out, err := m.Translate(ctx, []string{"four hundred twenty-one"}, inference.Options{})
//	fmt.Println(out[0].Text) // vierhunderteinundzwanzig
package inference

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/translate"
)

// Model is a loaded run, ready to translate. It is not safe for concurrent
// use: give each goroutine its own, or serialise calls.
type Model struct {
	// Checkpoint is the loaded run: config, tokenizers, weights and the
	// training state of the checkpoint the weights came from.
	Checkpoint *rundir.Checkpoint
	tr         *model.Translator
	members    []*model.Translator // of an ensemble
}

// Load loads the best checkpoint of the run directory dir (the latest one
// before the first validation).
func Load(dir string) (*Model, error) { return LoadWeights(dir, "best") }

// LoadWeights loads the "best" or the "last" checkpoint of dir.
func LoadWeights(dir, which string) (*Model, error) {
	ck, err := rundir.LoadCheckpoint(dir, which)
	if err != nil {
		return nil, err
	}
	return &Model{Checkpoint: ck, tr: model.NewTranslator(ck.Model, 0)}, nil
}

// LoadEnsemble loads the "best" (or which) checkpoint of each run
// directory as one ensemble: Translate averages the models'
// log-probabilities at every step. The runs must share their tokenizers;
// the first run's config decides the decoding options. Attention maps come
// from the first model.
func LoadEnsemble(which string, dirs ...string) (*Model, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("LoadEnsemble: no run directories")
	}
	var m Model
	for i, d := range dirs {
		ck, err := rundir.LoadCheckpoint(d, which)
		if err != nil {
			m.Close()
			return nil, err
		}
		if i == 0 {
			m.Checkpoint = ck
		} else if !slices.Equal(ck.SrcTok.Vocab, m.Checkpoint.SrcTok.Vocab) || !slices.Equal(ck.TgtTok.Vocab, m.Checkpoint.TgtTok.Vocab) {
			m.Close()
			return nil, fmt.Errorf("%s: its tokenizers are not those of %s: an ensemble needs models of the same vocabularies", d, dirs[0])
		}
		m.members = append(m.members, model.NewTranslator(ck.Model, 0))
	}
	tr, err := model.NewEnsemble(m.members...)
	if err != nil {
		m.Close()
		return nil, err
	}
	m.tr = tr
	return &m, nil
}

// Translator is the translator Translate decodes with (one model, or the
// ensemble of LoadEnsemble), for the lower-level calls of package
// translate and model.
func (m *Model) Translator() *model.Translator { return m.tr }

// Close releases the compiled graphs.
func (m *Model) Close() {
	if m.members != nil {
		for _, t := range m.members {
			t.Close()
		}
		return
	}
	if m.tr != nil {
		m.tr.Close()
	}
}

// ToHalf rounds the weight matrices of every model to format f (half.F16
// or half.BF16; 0: back to float32), as transformer convert does, and
// drops the graphs compiled for the old weights. Translations are then
// computed in float32 from 16-bit weights, on half their memory.
func (m *Model) ToHalf(f half.Format) error {
	members := m.members
	if members == nil {
		members = []*model.Translator{m.tr}
	}
	for _, t := range members {
		if _, err := t.Model.ToHalf(f); err != nil {
			return err
		}
		t.Close()
	}
	if m.tr != nil {
		m.tr.Close()
	}
	return nil
}

// ToInt8 quantises the weight matrices of every model to int8
// (model.Transformer.ToInt8) and drops the graphs compiled for the float32
// weights. Translations are then computed with int8 products, each row of
// activations quantised on the fly (package graph/i8).
func (m *Model) ToInt8() error {
	members := m.members
	if members == nil {
		members = []*model.Translator{m.tr}
	}
	for _, t := range members {
		if _, err := t.Model.ToInt8(); err != nil {
			return err
		}
		t.Close()
	}
	if m.tr != nil {
		m.tr.Close()
	}
	return nil
}

// SourceTokens is the number of tokens sentence encodes to (without </s>):
// Translate cuts a sentence longer than the model takes
// (Checkpoint.Model.MaxSourceLen) or than Options.MaxInputTokens.
func (m *Model) SourceTokens(sentence string) int { return len(m.Checkpoint.SrcTok.Encode(sentence)) }

// Options choose how Translate decodes. The zero value decodes as the run's
// config says (its decoding section).
type Options struct {
	// Beam is the beam size (1: greedy; 0: the config's decoding.beam).
	Beam int
	// LengthPenalty is GNMT's α for beam search (0: the config's
	// decoding.length_penalty; negative: α = 0, no length normalisation).
	LengthPenalty float64
	// NBest is how many translations to return per sentence, best first
	// (0: one); it needs a beam at least as wide.
	NBest int
	// MaxInputTokens cuts longer sources (0: the model's limit).
	MaxInputTokens int
	// BatchSize is how many sentences are decoded together (0: the
	// config's decoding.batch_size).
	BatchSize int
	// Attention asks for every attention weight of each sentence and its
	// greedy translation (at most model.MaxAttentionTokens tokens).
	Attention bool
	// Samples, when positive, draws that many translations of each
	// sentence from the model's distribution instead of searching
	// (Result.Text is the first, Result.NBest all of them when more than
	// one), shaped by Sampling (nil: temperature 1, every token, seed 0;
	// sample k uses the seed plus k).
	Samples  int
	Sampling *model.Sampling
}

// check refuses negative counts (0 means the default for each).
func (o Options) check() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"Beam", o.Beam}, {"NBest", o.NBest}, {"MaxInputTokens", o.MaxInputTokens}, {"BatchSize", o.BatchSize}, {"Samples", o.Samples}} {
		if f.v < 0 {
			return fmt.Errorf("Options.%s must not be negative (0: the default), got %d", f.name, f.v)
		}
	}
	return nil
}

// Hypothesis is one translation and its score.
type Hypothesis struct {
	Text string
	// Score is the log-probability divided by the length penalty (beam
	// search), or 0 for greedy decoding.
	Score float64
}

// Result is the translation of one sentence.
type Result struct {
	// Text is the best translation.
	Text string
	// Score is the best translation's score (see Hypothesis).
	Score float64
	// NBest holds Options.NBest translations, best first, when more than
	// one was asked for.
	NBest []Hypothesis
	// Attention holds the attention maps of the sentence and its greedy
	// translation, with token labels, when Options.Attention is set.
	Attention *translate.AttentionView
}

// Translate translates sentences, one Result each. Inputs longer than
// the model takes (or than MaxInputTokens) are cut to fit; an empty
// sentence gives an empty translation. When ctx is done, it stops within one decoding step and
// returns ctx.Err().
func (m *Model) Translate(ctx context.Context, sentences []string, opt Options) ([]Result, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	ck := m.Checkpoint
	bo := ck.Config.Decoding.BeamOptions()
	if opt.Beam != 0 {
		bo.Beam = opt.Beam
	}
	if opt.BatchSize != 0 {
		bo.BatchSize = opt.BatchSize
	}
	switch {
	case math.IsNaN(opt.LengthPenalty) || math.IsInf(opt.LengthPenalty, 0):
		return nil, fmt.Errorf("LengthPenalty must be a finite number, got %g", opt.LengthPenalty)
	case opt.LengthPenalty < 0:
		bo.Alpha = 0
	case opt.LengthPenalty > 0:
		bo.Alpha = opt.LengthPenalty
	}
	bo.NBest = max(opt.NBest, 1)
	if opt.Samples > 0 {
		return m.sample(ctx, sentences, opt, bo.DecodeOptions)
	}
	if bo.NBest > bo.Beam {
		return nil, fmt.Errorf("NBest %d needs a beam of at least %d", bo.NBest, bo.NBest)
	}
	if err := bo.Check(ck.Model.Config.TgtVocab); err != nil {
		return nil, err
	}
	out := make([]Result, len(sentences))
	if bo.Beam > 1 {
		hyps, err := translate.Beam(ctx, m.tr, ck.SrcTok, ck.TgtTok, sentences, bo, opt.MaxInputTokens, nil)
		if err != nil {
			return nil, err
		}
		for i, h := range hyps {
			out[i] = Result{Text: h[0].Text, Score: h[0].Score}
			if bo.NBest > 1 {
				for _, x := range h {
					out[i].NBest = append(out[i].NBest, Hypothesis{Text: x.Text, Score: x.Score})
				}
			}
		}
	} else {
		texts, err := translate.Greedy(ctx, m.tr, ck.SrcTok, ck.TgtTok, sentences, bo.DecodeOptions, opt.MaxInputTokens, nil)
		if err != nil {
			return nil, err
		}
		for i, t := range texts {
			out[i] = Result{Text: t}
		}
	}
	return m.attend(ctx, sentences, opt, bo.DecodeOptions, out)
}

// sample is Translate with Options.Samples.
func (m *Model) sample(ctx context.Context, sentences []string, opt Options, do model.DecodeOptions) ([]Result, error) {
	if opt.Beam > 1 || opt.NBest > 1 {
		return nil, fmt.Errorf("Options.Samples draws translations: Beam and NBest search for them; give one or the other")
	}
	s := model.Sampling{Temperature: 1}
	if opt.Sampling != nil {
		s = *opt.Sampling
	}
	out := make([]Result, len(sentences))
	for k := 0; k < opt.Samples; k++ {
		sk := s
		sk.Seed += uint64(k)
		o := do
		o.Sample = &sk
		if err := o.Check(); err != nil {
			return nil, fmt.Errorf("Options.Sampling: %w", err)
		}
		texts, err := translate.Greedy(ctx, m.tr, m.Checkpoint.SrcTok, m.Checkpoint.TgtTok, sentences, o, opt.MaxInputTokens, nil)
		if err != nil {
			return nil, err
		}
		for i, t := range texts {
			if k == 0 {
				out[i].Text = t
			}
			if opt.Samples > 1 {
				out[i].NBest = append(out[i].NBest, Hypothesis{Text: t})
			}
		}
	}
	return m.attend(ctx, sentences, opt, do, out)
}

// attend adds the attention maps to out when Options.Attention asks.
func (m *Model) attend(ctx context.Context, sentences []string, opt Options, do model.DecodeOptions, out []Result) ([]Result, error) {
	ck := m.Checkpoint
	if opt.Attention {
		for i, s := range sentences {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			v, err := translate.Inspect(ctx, m.tr, ck.SrcTok, ck.TgtTok, s, do)
			if err != nil {
				return nil, fmt.Errorf("sentence %d: %w", i+1, err)
			}
			out[i].Attention = v
		}
	}
	return out, nil
}
