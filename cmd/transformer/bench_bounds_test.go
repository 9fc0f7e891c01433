package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// classifyBoundsBase is the classify tests' small config.
var classifyBoundsBase = func() string {
	b, err := os.ReadFile("../../testdata/classify-small.yaml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Hostile classify configs (bugs 1–3) fail with one line naming the file
// and the key, before anything large is allocated.
func TestClassifyBadConfigs(t *testing.T) {
	dir := t.TempDir()
	cfg := func(name, old, new string) string {
		text := strings.Replace(classifyBoundsBase, old, new, 1)
		if text == classifyBoundsBase {
			t.Fatalf("%q not in the base config", old)
		}
		return writeFile(t, dir, name, text)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"huge.yaml", "d_model: 32\n  heads: 2\n  encoder_layers: 2\n  ff_dim: 64", "d_model: 16384\n  heads: 2\n  encoder_layers: 256\n  ff_dim: 131072", ": model.d_model: a training step needs about"},
		{"batch.yaml", "batch_size: 8", "batch_size: 1000000000", ": training.batch_size: must be at most 65536"},
		{"nan.yaml", "learning_rate: 0.001", "learning_rate: .nan", ": training.learning_rate: must be a finite number, got NaN"},
		{"inf.yaml", "learning_rate: 0.001", "learning_rate: .inf", ": training.learning_rate: must be a finite number, got +Inf"},
		{"big-lr.yaml", "learning_rate: 0.001", "learning_rate: 1e300", ": training.learning_rate: must be in (0, 10]"},
		{"test0.yaml", "test_size: 20", "test_size: 0", ": data.longrange.test_size: must be positive"},
		{"global.yaml", "global: [0]", "global: [100000]", ": model.encoder.attention.global: position 100000 is outside"},
		{"dup.yaml", "global: [0]", "global: [0, 0, 0]", ": model.encoder.attention.global: position 0 is given twice"},
		{"warm.yaml", "warmup: 3", "warmup: -5", ": training.warmup: must be in [0, 1000000000], got -5"},
		{"fill.yaml", "fillers: 16", "fillers: 1", ": data.longrange.fillers: must be at least 2"},
		{"bogus.yaml", "    seed: 1\n", "    seed: 1\n  bogus: 3\n", `:18: unknown key "bogus" in data`},
	} {
		p := cfg(tc.name, tc.old, tc.new)
		t.Run(tc.name, func(t *testing.T) { expectError(t, p+tc.want, "classify", "--config", p) })
	}
	good := writeFile(t, dir, "good.yaml", classifyBoundsBase)
	expectError(t, "--steps must be at most 1000000000", "classify", "--config", good, "--steps", "2000000000")
	out := filepath.Join(dir, "out")
	status, _, stderr := runCLI(t, "", "classify", "--config", good, "--steps", "2", "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	js, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil || strings.Contains(string(js), "NaN") {
		t.Errorf("result.json %q, %v", js, err)
	}
}

// Every bench flag is bounded and named (bug 4).
func TestBenchBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch", "1000000"}, "--batch must be in [1, 4096], got 1000000"},
		{[]string{"--src-len", "1000000"}, "--src-len must be in [2, 4096], got 1000000"},
		{[]string{"--batch", "4096", "--src-len", "4096", "--tgt-len", "4096"}, "a training step needs about"},
		{[]string{"--steps", "1000000000"}, "--steps must be in [1, 10000], got 1000000000"},
		{[]string{"--decode", "--decode-reps", "1000000000"}, "--decode-reps must be in [1, 1000], got 1000000000"},
		{[]string{"--decode", "--decode-beam", "0"}, "--decode-beam must be in [1, 256], got 0"},
		{[]string{"--decode-beam", "5"}, "--decode-beam applies to --decode alone, got 5 without it"},
		{[]string{"--decode", "--decode-beam", "99999"}, "--decode-beam must be in [1, 256], got 99999"},
		{[]string{"--heads", "3"}, "--heads 3 does not divide --d-model 128"},
		{[]string{"--heads", "0"}, "--heads must be in [1, 1024], got 0"},
		{[]string{"--vocab", "1"}, "--vocab must be in [5, 1048576], got 1"},
		{[]string{"--decode", "--decode-len", "100000"}, "--decode-len must be in [1, 1024], got 100000"},
		{[]string{"--decode", "--decode-batch", "100000", "--decode-len", "100000"}, "--decode-batch must be in [1, 4096], got 100000"},
		{[]string{"--dtype", "int8"}, "--dtype int8 applies to --decode alone: training runs in f32, bf16 or f16"},
		{[]string{"--dtype", "half"}, `--dtype: unknown half-precision format "half" (want f16 or bf16), f32 or int8`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) { expectError(t, tc.want, append([]string{"bench"}, tc.args...)...) })
	}
}

// bench-long bounds --seq and --batch, estimates a step's memory, and
// --plot needs --report; a report of one result draws (bug 5).
func TestBenchLongBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seq", "1000000000"}, "--seq must be in [2, 65536], got 1000000000"},
		{[]string{"--seq", "65536", "--attention", "full"}, "--seq 65536 --batch 1: a training step needs about"},
		{[]string{"--seq", "1000000", "--attention", "linear"}, "--seq must be in [2, 65536], got 1000000"},
		{[]string{"--batch", "1000000", "--seq", "1024"}, "--batch must be in [1, 4096], got 1000000"},
		{[]string{"--batch", "4096", "--seq", "1024"}, "--seq 1024 --batch 4096: a training step needs about"},
		{[]string{"--d-model", "16384", "--ff", "65536", "--seq", "1024"}, "--seq 1024 --batch 1: a training step needs about"},
		{[]string{"--plot", "p"}, "--plot draws the results of --report FILE: give --report too"},
		{[]string{"--dtype", "half"}, `bench: --dtype must be float32 (f32), bfloat16 (bf16) or float16 (f16), got "half"`},
		{[]string{"--dtype", ""}, `bench: --dtype must be float32 (f32), bfloat16 (bf16) or float16 (f16), got ""`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) { expectError(t, tc.want, append([]string{"bench-long"}, tc.args...)...) })
	}
	dir := t.TempDir()
	one := writeFile(t, dir, "one.jsonl", `{"attention":"full","window":64,"seq_len":256,"batch":1,"layers":6,"d_model":256,"heads":4,"ff_dim":1024,"checkpoint":false,"steps":3,"step_seconds":0.66,"peak_rss_mb":340.6}`+"\n")
	plot := filepath.Join(dir, "plot")
	if status, _, stderr := runCLI(t, "", "bench-long", "--report", one, "--plot", plot); status != 0 {
		t.Errorf("one result: status %d: %s", status, stderr)
	}
	if _, err := os.Stat(plot + ".png"); err != nil {
		t.Error(err)
	}
	missing := writeFile(t, dir, "missing.jsonl", `{"attention":"full","seq_len":256}`+"\n")
	expectError(t, missing+":1: step_seconds must be a positive number", "bench-long", "--report", missing, "--plot", plot)
}

// gradcheck refuses models too large for float64 finite differences,
// non-finite or absurd --step and --tol, unbounded --per-tensor and
// --layer with --config (bug 6).
func TestGradcheckBadInputs(t *testing.T) {
	dir := t.TempDir()
	big := writeFile(t, dir, "big.yaml", strings.Replace(tinyConfig, "model: {d_model: 32, heads: 4, ff_dim: 64, encoder_layers: 1, decoder_layers: 1,",
		"model: {d_model: 1024, heads: 8, ff_dim: 4096, encoder_layers: 4, decoder_layers: 4,", 1))
	tiny := writeFile(t, dir, "tiny.yaml", tinyConfig)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", big}, big + ": the model has 117628957 parameters, more than the 2000000 a float64 finite-difference check handles: use a smaller config"},
		{[]string{"--step", "nan"}, "--step must be a finite number, got NaN"},
		{[]string{"--step", "inf"}, "--step must be a finite number, got +Inf"},
		{[]string{"--step", "1e308"}, "--step must be below 1"},
		{[]string{"--tol", "nan"}, "--tol must be a finite number, got NaN"},
		{[]string{"--config", tiny, "--per-tensor", "1000000000"}, "--per-tensor must be at most 100000 (0: every element), got 1000000000"},
		{[]string{"--config", tiny, "--per-tensor", "0"}, tiny + ": --per-tensor 0 perturbs 23197 elements of this model"},
		{[]string{"--config", tiny, "--layer", "layer_norm"}, "give --layer or --config, not both"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) { expectError(t, tc.want, append([]string{"gradcheck"}, tc.args...)...) })
	}
}
