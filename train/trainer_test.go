package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/runlog"
	"github.com/gotransformer/transformer/translate"
)

// overfitConfig trains a tiny model on eight reversal pairs.
func overfitConfig(dir string) *rundir.Config {
	c := rundir.DefaultConfig()
	c.Path = "overfit"
	c.Data.Generate = &data.Generated{Task: "reverse", TrainSize: 8, ValidSize: 4, TestSize: 4, MinLen: 2, MaxLen: 5, Alphabet: 6, Seed: 3}
	c.Data.SrcTokenizer, c.Data.TgtTokenizer = rundir.TokenizerConfig{}, rundir.TokenizerConfig{}
	c.Model.DModel, c.Model.Heads, c.Model.FFDim, c.Model.EncoderLayers, c.Model.DecoderLayers = 32, 4, 64, 1, 1
	c.Model.Dropout, c.Model.NormFirst = 0, true
	c.Training.Steps, c.Training.BatchTokens, c.Training.ValidEvery, c.Training.LogEvery = 300, 128, 100, 100
	c.Training.Schedule, c.Training.LearningRate, c.Training.Warmup = "constant", 3e-3, 20
	c.Training.LabelSmoothing = 0
	c.Training.BestMetric = "loss"
	c.Training.OutDir = dir
	return &c
}

// A tiny model must learn a few pairs perfectly; then the saved checkpoint,
// loaded back, must translate exactly as the model in memory did.
func TestOverfitThenSaveLoadTranslate(t *testing.T) {
	dir := t.TempDir()
	c := overfitConfig(dir)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 300 {
		t.Errorf("ran %d steps", res.Steps)
	}
	m, err := tr.Translation().EvaluatePairs(context.Background(), tr.Translation().Corpus.Train, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m["exact_match"] != 1 || m["token_accuracy"] != 1 {
		t.Fatalf("after 300 steps on 8 pairs: exact match %.2f, token accuracy %.2f; want both 1", m["exact_match"], m["token_accuracy"])
	}
	// A cancelled context stops validation at once.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Translation().EvaluatePairs(cancelled, tr.Translation().Corpus.Train, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Evaluate with a cancelled context: %v, want context.Canceled", err)
	}

	// Reload the best weights in memory (Run ended on them), translate
	// all splits, and compare with a fresh load from disk.
	srcs := append(data.Sources(tr.Translation().Corpus.Train), data.Sources(tr.Translation().Corpus.Valid)...)
	srcs = append(srcs, "", "a b c d e f", "zz")
	want, err := translate.Greedy(context.Background(), tr.Translation().translator, tr.Translation().SrcTok, tr.Translation().TgtTok, srcs, c.Decoding.Options(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tr.Translation().Corpus.Train {
		if want[i] != p.Tgt {
			t.Errorf("train pair %d: %q → %q, want %q", i, p.Src, want[i], p.Tgt)
		}
	}
	ck, err := rundir.LoadCheckpoint(dir, "best")
	if err != nil {
		t.Fatal(err)
	}
	got, err := translate.Greedy(context.Background(), model.NewTranslator(ck.Model, 0), ck.SrcTok, ck.TgtTok, srcs, ck.Config.Decoding.Options(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded checkpoint translates differently:\n got %q\nwant %q", got, want)
	}
	if len(got) != len(srcs) || got[len(srcs)-3] != "" {
		t.Errorf("empty input gave %q; every input needs one output", got[len(srcs)-3])
	}
	for _, f := range []string{rundir.ConfigFile, rundir.SrcTokenizerFile, rundir.TgtTokenizerFile, rundir.LogFile, rundir.LatestFile, rundir.BestFile,
		"checkpoints/step-0000300/" + rundir.WeightsFile, "checkpoints/step-0000300/" + rundir.OptimizerFile, "checkpoints/step-0000300/" + rundir.StateFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory lacks %s", f)
		}
	}
	if ck.State.Step != ck.State.BestStep {
		t.Errorf("best pointer names step %d, best step is %d", ck.State.Step, ck.State.BestStep)
	}
}

func TestLoadCheckpointErrors(t *testing.T) {
	if _, err := rundir.LoadCheckpoint(filepath.Join(t.TempDir(), "none"), "best"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("missing dir: %v", err)
	}
	dir := t.TempDir()
	c := overfitConfig(dir)
	c.Training.Steps = 1
	trainFor(t, c, false, context.Background())
	// Truncate the weights: the checksum catches it and the error names the file.
	w := filepath.Join(dir, "checkpoints/step-0000001", rundir.WeightsFile)
	b, _ := os.ReadFile(w)
	os.WriteFile(w, b[:len(b)/2], 0o644)
	if _, err := rundir.LoadCheckpoint(dir, "best"); err == nil || !strings.Contains(err.Error(), w+": checksum mismatch") {
		t.Errorf("truncated weights: %v", err)
	}
	if _, err := rundir.LoadCheckpoint(dir, "newest"); err == nil {
		t.Error("unknown weights name accepted")
	}
}

// After a step a cached training graph holds no activations: only inputs
// and parameters keep values, so many cached shapes cost little memory.
func TestTrainStepReleasesActivations(t *testing.T) {
	c := overfitConfig(t.TempDir())
	tr, err := NewTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	batches, err := data.MakeBatches(tr.Translation().trainEx, data.BatchOptions{MaxTokens: 64, BucketWidth: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.TrainStep(batches[0]); err != nil {
		t.Fatal(err)
	}
	s, _ := tr.stepGraphFor(batches[0])
	held := 0
	for _, n := range s.b.G.AllNodes() {
		if n.Value() != nil && !n.IsVar() && !n.IsScalar() {
			held++
			t.Logf("%s holds %v", n.Name(), n.Shape())
		}
	}
	if held > 0 {
		t.Errorf("%d computed nodes still hold values after the step", held)
	}
}

// Validation progress counts what it does in its own units: batches
// scored, then sentences translated (issue 20: "evaluate 508/508 items"
// for 500 sentences).
func TestValidationProgressUnits(t *testing.T) {
	c := overfitConfig(t.TempDir())
	c.Training.Steps, c.Training.ValidEvery = 2, 2
	var buf strings.Builder
	tr, err := NewTrainer(context.Background(), c, progress.New(&buf, progress.Bar))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !regexp.MustCompile(`translate \[=+\] 100% 4/4 sentences`).MatchString(out) || !strings.Contains(out, " batches") || strings.Contains(out, "items") {
		t.Errorf("validation progress:\n%s", out)
	}
}

// The steps after the last full log interval are logged too (issue 20:
// with --steps 60 and log_every 50, steps 51–60 were never logged).
func TestLastStepsAreLogged(t *testing.T) {
	c := overfitConfig(t.TempDir())
	c.Training.Steps, c.Training.LogEvery, c.Training.ValidEvery = 13, 5, 100
	trainFor(t, c, false, context.Background())
	recs, err := runlog.Read(c.Training.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, r := range recs {
		if r.Kind == "train" {
			steps = append(steps, r.Step)
		}
	}
	if !reflect.DeepEqual(steps, []int{1, 5, 10, 13}) {
		t.Errorf("train records at steps %v, want [1 5 10 13]", steps)
	}
}

// Validation of sentences shorter than four tokens says BLEU n/a, not
// 0.00 (issue 20: the numbers task's perfect translations "scored" BLEU 0).
func TestDescribeSaysBLEUNotApplicable(t *testing.T) {
	var tr Translation
	m := map[string]float64{"bleu": 0, "bleu_4grams": 0, "chrf": 100, "exact_match": 1, "exact": 4, "sentences": 4}
	if got := tr.Describe(m); !strings.Contains(got, "| BLEU n/a |") || !strings.Contains(got, "exact match 100.00% (4/4") {
		t.Errorf("%q", got)
	}
	m["bleu"], m["bleu_4grams"] = 12.345, 10
	if got := tr.Describe(m); !strings.Contains(got, "| BLEU 12.35 |") {
		t.Errorf("%q", got)
	}
}
