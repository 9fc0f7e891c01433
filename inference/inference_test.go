package inference

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/train"
)

// trainTiny trains a 2-step run: enough to load and decode, not to be right.
func trainTiny(t *testing.T) string {
	t.Helper()
	c := rundir.DefaultConfig()
	c.Data.Generate = &data.Generated{Task: "reverse", TrainSize: 8, ValidSize: 4, MinLen: 2, MaxLen: 4, Alphabet: 5, Seed: 2}
	c.Data.SrcTokenizer.Merges, c.Data.TgtTokenizer.Merges = 0, 0
	c.Model.DModel, c.Model.Heads, c.Model.FFDim, c.Model.EncoderLayers, c.Model.DecoderLayers = 16, 2, 16, 1, 1
	c.Training.Steps, c.Training.BatchTokens, c.Training.ValidEvery = 2, 64, 2
	c.Training.OutDir = filepath.Join(t.TempDir(), "run")
	tr, err := train.NewTrainer(context.Background(), &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c.Training.OutDir
}

func TestTranslateOptions(t *testing.T) {
	m, err := Load(trainTiny(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	out, err := m.Translate(ctx, []string{"a b", ""}, Options{Attention: false})
	if err != nil || len(out) != 2 || out[1].Text != "" {
		t.Fatalf("greedy: %+v, %v", out, err)
	}
	out, err = m.Translate(ctx, []string{"a b"}, Options{Beam: 3, NBest: 3, LengthPenalty: -1})
	if err != nil || len(out[0].NBest) != 3 || out[0].NBest[0].Text != out[0].Text || out[0].NBest[0].Score < out[0].NBest[2].Score {
		t.Fatalf("beam: %+v, %v", out, err)
	}
	out, err = m.Translate(ctx, []string{"a b c"}, Options{Attention: true})
	if err != nil || out[0].Attention == nil || len(out[0].Attention.SrcTokens) != len(m.Checkpoint.SrcTok.Encode("a b c"))+1 {
		t.Fatalf("attention: %+v, %v", out, err)
	}
	// Sampling: reproducible from the seed; top-k 1 is greedy.
	greedy, _ := m.Translate(ctx, []string{"a b c", "b"}, Options{})
	k1, err := m.Translate(ctx, []string{"a b c", "b"}, Options{Samples: 1, Sampling: &model.Sampling{Temperature: 2, TopK: 1}})
	if err != nil || k1[0].Text != greedy[0].Text || k1[1].Text != greedy[1].Text {
		t.Errorf("top-k 1 samples %+v (%v), greedy %+v", k1, err, greedy)
	}
	s1, err := m.Translate(ctx, []string{"a b c"}, Options{Samples: 3, Sampling: &model.Sampling{Temperature: 2, Seed: 4}})
	s2, _ := m.Translate(ctx, []string{"a b c"}, Options{Samples: 3, Sampling: &model.Sampling{Temperature: 2, Seed: 4}})
	if err != nil || len(s1[0].NBest) != 3 || s1[0].Text != s1[0].NBest[0].Text || s1[0].NBest[2] != s2[0].NBest[2] {
		t.Errorf("3 samples: %+v, again %+v (%v)", s1, s2, err)
	}
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Samples: 2, Beam: 4}, "Options.Samples draws translations"},
		{Options{Samples: 1, Sampling: &model.Sampling{Temperature: -1}}, "Options.Sampling: temperature"},
		{Options{Samples: -1}, "Options.Samples must not be negative"},
		{Options{NBest: 2}, "NBest 2 needs a beam of at least 2"},
		{Options{Beam: 100000}, "beam"},
		{Options{LengthPenalty: math.NaN()}, "LengthPenalty must be a finite number"},
		{Options{Beam: -1}, "Options.Beam must not be negative"},
		{Options{MaxInputTokens: -5}, "Options.MaxInputTokens must not be negative"},
		{Options{BatchSize: -1}, "Options.BatchSize must not be negative"},
		{Options{NBest: -2}, "Options.NBest must not be negative"},
	} {
		_, err := m.Translate(ctx, []string{"a"}, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.opt, err, c.want)
		}
	}
	// An ensemble of the run with itself translates as the run.
	ens, err := LoadEnsemble("best", m.Checkpoint.Dir, m.Checkpoint.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	want, _ := m.Translate(ctx, []string{"a b c", "b a"}, Options{Beam: 2})
	got, err := ens.Translate(ctx, []string{"a b c", "b a"}, Options{Beam: 2})
	if err != nil || got[0].Text != want[0].Text || got[1].Text != want[1].Text {
		t.Errorf("ensemble of the run with itself: %+v (%v), the run %+v", got, err, want)
	}
	if _, err := LoadEnsemble("best"); err == nil {
		t.Error("an ensemble of no runs was loaded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Translate(cancelled, []string{"a b"}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("missing run: %v", err)
	}
}
