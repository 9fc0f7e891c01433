package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/runlog"
)

func classifyModel(kind string) model.Config {
	c := model.DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers = 16, 2, 32, 3
	c.Dropout = 0.2
	c.Encoder.Attention = model.AttentionConfig{Kind: kind}
	if kind == "sliding_window" {
		c.Encoder.Attention.Window, c.Encoder.Attention.Global = 2, []int{0}
	}
	return c
}

// On 64-token sequences, a global first token lets two layers of 4-wide
// windows learn the task; without it the first position never sees the
// last token and accuracy stays near chance.
func TestLongRangeNeedsGlobalTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two classifiers")
	}
	acc := map[bool]float64{}
	for _, global := range []bool{true, false} {
		c := &rundir.ClassifyConfig{Model: model.DefaultConfig(),
			Data: rundir.ClassifyData{LongRange: data.LongRange{Length: 64, Fillers: 8, Train: 1200, Valid: 100, Test: 200, Seed: 1}},
			Training: rundir.ClassifyTraining{Steps: 150, BatchSize: 8, LearningRate: 2e-3, Warmup: 20, ClipNorm: 1,
				EvalEvery: 150, LogEvery: 50, KeepCheckpoints: 1, Seed: 1, Dtype: "float32", CheckpointActivations: global, OutDir: t.TempDir()}}
		m := &c.Model
		m.DModel, m.Heads, m.EncoderLayers, m.FFDim, m.Dropout, m.NormFirst = 32, 2, 2, 64, 0, true
		m.Encoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 4}
		if global {
			m.Encoder.Attention.Global = []int{0}
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		res, err := RunClassify(context.Background(), c, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		acc[global] = res.TestAccuracy
		if _, err := os.Stat(filepath.Join(c.Training.OutDir, "result.json")); err != nil {
			t.Error(err)
		}
	}
	if acc[true] < 0.95 {
		t.Errorf("with a global token: test accuracy %.3f, want ≥ 0.95", acc[true])
	}
	if acc[false] > 0.7 {
		t.Errorf("window only: test accuracy %.3f, want near chance", acc[false])
	}
	t.Logf("test accuracy: global %.3f, window only %.3f", acc[true], acc[false])
}

func TestLongRangeData(t *testing.T) {
	g := data.LongRange{Length: 10, Fillers: 3, Train: 50, Test: 5, Seed: 1}
	train, test := g.Generate()
	if len(train) != 50 || len(test) != 5 {
		t.Fatalf("sizes %d, %d", len(train), len(test))
	}
	ones := 0
	for _, ex := range train {
		a, b := ex.Tokens[0]-data.LongRangeA0, ex.Tokens[9]-data.LongRangeB0
		if a < 0 || a > 1 || b < 0 || b > 1 || ex.Label != a^b {
			t.Fatalf("bad example %v label %d", ex.Tokens, ex.Label)
		}
		for _, tok := range ex.Tokens[1:9] {
			if tok < 8 || tok >= g.Vocab() {
				t.Fatalf("filler %d out of range", tok)
			}
		}
		ones += ex.Label
	}
	if ones < 10 || ones > 40 {
		t.Errorf("%d of 50 labels are 1", ones)
	}
}

func TestClassifyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"data: {longrange: {length: 2, fillers: 3, train_size: 5}}\ntraining: {steps: 5}", "data.longrange: length"},
		{"data: {longrange: {length: 20, fillers: 3, train_size: 5}}\ntraining: {steps: 0}", "training.steps"},
		{"data: {longrange: {length: 20, fillers: 3, train_size: 5}}\ntraining: {steps: 5, learning_rat: 1}", "learning_rat"},
		{"model: {encoder: {attention: {kind: linear, window: 3}}}\ndata: {longrange: {length: 20, fillers: 3, train_size: 5}}\ntraining: {steps: 5}", "model.encoder.attention"},
	} {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte(tc.yaml), 0o644)
		_, err := rundir.LoadClassifyConfig(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: error %v, want one naming %s and %q", tc.yaml, err, p, tc.want)
		}
	}
}

func resumeClassifyConfig(dir string, steps int) *rundir.ClassifyConfig {
	return &rundir.ClassifyConfig{Model: classifyModel("full"),
		Data: rundir.ClassifyData{LongRange: data.LongRange{Length: 16, Fillers: 8, Train: 64, Valid: 8, Test: 16, Seed: 1}},
		Training: rundir.ClassifyTraining{Steps: steps, BatchSize: 8, LearningRate: 1e-3, Warmup: 5, ClipNorm: 1,
			EvalEvery: 10, LogEvery: 5, KeepCheckpoints: 2, Seed: 1, Dtype: "float64", OutDir: dir}}
}

func classifyFor(t *testing.T, c *rundir.ClassifyConfig, resume bool, ctx context.Context) *Trainer {
	t.Helper()
	newT := NewClassifyTrainer
	if resume {
		newT = ResumeClassifyTrainer
	}
	return runTrainer(t, ctx, func() (*Trainer, error) { return newT(context.Background(), c, nil) })
}

// The classifier trains through the one Trainer, so it has what
// translation has: a run stopped at step 17 (and again by cancellation)
// and resumed ends bitwise where an uninterrupted run ends, with dropout
// on and epochs crossed.
func TestClassifyResumeIsExact(t *testing.T) {
	const total = 30
	ref := classifyFor(t, resumeClassifyConfig(t.TempDir(), total), false, context.Background())
	dir := t.TempDir()
	classifyFor(t, resumeClassifyConfig(dir, 17), false, context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	classifyFor(t, resumeClassifyConfig(dir, total), true, ctx)
	got := classifyFor(t, resumeClassifyConfig(dir, total), true, context.Background())
	if got.state.Step != total || got.state.Epoch != ref.state.Epoch || got.state.Pos != ref.state.Pos {
		t.Fatalf("state %+v, want step %d epoch %d pos %d", got.state, total, ref.state.Epoch, ref.state.Pos)
	}
	// Run ends holding the best checkpoint's weights (for the test
	// figures): compare the last ones.
	for _, tr := range []*Trainer{ref, got} {
		if _, _, err := rundir.Resume(tr.Dir, tr.Task.ModelConfig(), tr.Task.Store()); err != nil {
			t.Fatal(err)
		}
	}
	store, want := got.Task.Store(), ref.Task.Store()
	for _, n := range want.Names() {
		a, b := graph.Float64s(want.Get(n)), graph.Float64s(store.Get(n))
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", n, i, b[i], a[i])
			}
		}
	}
	for _, f := range []string{rundir.ConfigFile, rundir.LatestFile, rundir.BestFile, runlog.MetricsFile, rundir.LogFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the classify run has no %s: %v", f, err)
		}
	}
	if _, err := rundir.LoadClassifyRun(dir); err != nil {
		t.Errorf("its config.yaml does not load: %v", err)
	}
}

// A cancelled context stops RunClassify within a step, with a checkpoint
// to resume from.
func TestRunClassifyStopsOnContext(t *testing.T) {
	c := resumeClassifyConfig(t.TempDir(), 100000)
	c.Training.EvalEvery = 100000
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := RunClassify(ctx, c, nil, false)
	if err != nil || !res.Interrupted {
		t.Fatalf("RunClassify after its context ended: %+v, %v; want an interrupted result", res, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("stopped %v after the context ended", time.Since(start)-300*time.Millisecond)
	}
	if _, err := rundir.ReadPointer(c.Training.OutDir, rundir.LatestFile); err != nil {
		t.Errorf("no checkpoint after the interruption: %v", err)
	}
}

// result.json is valid JSON: never NaN (bug 2).
func TestClassifyResultJSONFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.5} {
		js := `{"a": ` + jsonNumber(f, 6) + `}`
		var v map[string]any
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			t.Errorf("%g: %s is not JSON: %v", f, js, err)
		}
	}
}
