package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/graph"
)

func runCLI(t *testing.T, stdin string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(args, strings.NewReader(stdin), &out, &errb)
	return status, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// expectError runs the command in process and checks that it fails with
// status 1 and one clean stderr line starting "transformer: "+want.
func expectError(t *testing.T, want string, args ...string) {
	t.Helper()
	status, _, stderr := runCLI(t, "", args...)
	if status != 1 {
		t.Errorf("exit status %d, want 1 (stderr %q)", status, stderr)
	}
	if !strings.HasPrefix(stderr, "transformer: "+want) {
		t.Errorf("stderr\n  %q\nwant prefix\n  %q", stderr, "transformer: "+want)
	}
	if strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("stderr is not one clean line: %q", stderr)
	}
}

const tinyConfig = `data:
  generate: {task: reverse, train_size: 8, valid_size: 4, test_size: 4, min_len: 2, max_len: 4, alphabet: 5, seed: 2}
  src_tokenizer: {merges: 0}
  tgt_tokenizer: {merges: 0}
model: {d_model: 32, heads: 4, ff_dim: 64, encoder_layers: 1, decoder_layers: 1, dropout: 0, norm_first: true}
training:
  steps: 250
  batch_tokens: 128
  schedule: constant
  learning_rate: 0.003
  warmup: 20
  label_smoothing: 0
  valid_every: 125
  log_every: 125
  best_metric: loss
`

// Bad input of every kind gives one line on stderr naming the problem and
// exit status 1; never a panic trace.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", tinyConfig)
	src := writeFile(t, dir, "a.en", "one\ntwo\n")
	tgt := writeFile(t, dir, "a.de", "eins\n")
	cfg := func(name, text string) string { return writeFile(t, dir, name, text) }
	// A one-step run to damage in several ways.
	run := filepath.Join(dir, "run")
	if status, _, stderr := runCLI(t, "", "train", "-c", good, "--out", run, "--steps", "1"); status != 0 {
		t.Fatal(stderr)
	}
	damaged := func(name string, damage func(run string)) string {
		d := filepath.Join(dir, name)
		if status, _, stderr := runCLI(t, "", "train", "-c", good, "--out", d, "--steps", "1"); status != 0 {
			t.Fatal(stderr)
		}
		damage(d)
		return d
	}
	truncated := damaged("truncated", func(d string) {
		w := filepath.Join(d, "checkpoints", "step-0000001", "model.safetensors")
		b, _ := os.ReadFile(w)
		os.WriteFile(w, b[:100], 0o644)
	})
	badPointer := damaged("pointer", func(d string) { os.WriteFile(filepath.Join(d, "latest"), []byte("nowhere\n"), 0o644) })
	otherConfig := damaged("other", func(d string) {
		b, _ := os.ReadFile(filepath.Join(d, "config.yaml"))
		os.WriteFile(filepath.Join(d, "config.yaml"), []byte(strings.Replace(string(b), "d_model: 32", "d_model: 16", 1)), 0o644)
	})
	empty := writeFile(t, dir, "empty.en", "")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"train", "-c", cfg("k.yaml", tinyConfig+"  momentum: 0.9\n")}, filepath.Join(dir, "k.yaml") + `:16: unknown key "momentum" in training`},
		{"wrong type", []string{"train", "-c", cfg("t.yaml", strings.Replace(tinyConfig, "steps: 250", "steps: many", 1))}, filepath.Join(dir, "t.yaml") + `:7: wrong type: "many" is a str, want int`},
		{"heads", []string{"train", "-c", cfg("h.yaml", strings.Replace(tinyConfig, "heads: 4", "heads: 5", 1))}, filepath.Join(dir, "h.yaml") + `:5: model.d_model: 32 is not divisible by heads (5)`},
		{"missing data file", []string{"train", "-c", cfg("m.yaml", "data:\n  train: {src: "+src+", tgt: /nonexistent/x.de}\n  valid: {src: "+src+", tgt: "+src+"}\n")}, filepath.Join(dir, "m.yaml") + `:2: data.train.tgt: file /nonexistent/x.de does not exist`},
		{"misaligned files", []string{"train", "-c", cfg("a.yaml", "data:\n  train: {src: "+src+", tgt: "+tgt+"}\n  valid: {src: "+src+", tgt: "+src+"}\ntraining: {out_dir: "+filepath.Join(dir, "run-a")+"}\n")}, "misaligned corpus: " + src + " has 2 lines but " + tgt + " has 1"},
		{"no config flag", []string{"train"}, "give either --config or --resume"},
		{"relative with linear attention", []string{"train", "-c", cfg("rl.yaml", strings.Replace(tinyConfig, "norm_first: true}", "norm_first: true, positions: relative,\n  encoder: {attention: {kind: linear}}}", 1))},
			filepath.Join(dir, "rl.yaml") + ":6: model.encoder.attention: relative positions add a bias to the full n×n attention scores"},
		{"window without sliding", []string{"train", "-c", cfg("w.yaml", strings.Replace(tinyConfig, "norm_first: true}", "norm_first: true,\n  decoder: {attention: {kind: full, window: 4}}}", 1))},
			filepath.Join(dir, "w.yaml") + ":6: model.decoder.attention: only sliding_window attention has a window"},
		{"classify without config", []string{"classify"}, "give either --config or --resume"},
		{"train a classify config", []string{"train", "-c", cfg("lrt.yaml", "data: {longrange: {length: 20, fillers: 4, train_size: 8}}\ntraining: {steps: 3}\n")},
			filepath.Join(dir, "lrt.yaml") + ": data.longrange makes this a classification config: run transformer classify --config"},
		{"classify bad length", []string{"classify", "--config", cfg("lr.yaml", "data: {longrange: {length: 2, fillers: 4, train_size: 8}}\ntraining: {steps: 3}\n")},
			filepath.Join(dir, "lr.yaml") + ": data.longrange: length must be at least 3, got 2"},
		{"bench-long short", []string{"bench-long", "--seq", "1"}, "bench: need --seq ≥ 2"},
		{"bench-long bad kind", []string{"bench-long", "--attention", "sparse", "--seq", "8", "--layers", "1", "--d-model", "8", "--heads", "2", "--ff", "8"}, "encoder.attention: unknown attention kind \"sparse\""},
		{"config and resume", []string{"train", "-c", good, "--resume", dir}, "give either --config or --resume"},
		{"resume empty dir", []string{"train", "--resume", dir}, "cannot resume " + dir + ": it holds no run"},
		{"config missing", []string{"train", "-c", filepath.Join(dir, "none.yaml")}, "open " + filepath.Join(dir, "none.yaml")},
		{"bad steps flag", []string{"train", "-c", good, "--steps", "-3"}, "--steps must be positive, got -3"},
		{"non-numeric flag", []string{"train", "-c", good, "--steps", "ten"}, `invalid argument "ten" for "--steps"`},
		{"unknown flag", []string{"train", "--colour"}, "unknown flag: --colour"},
		{"unknown command", []string{"trian"}, `unknown command "trian"`},
		{"translate without checkpoint", []string{"translate", "hello"}, "--checkpoint is required"},
		{"checkpoint missing", []string{"translate", "-k", filepath.Join(dir, "nope"), "x"}, "checkpoint " + filepath.Join(dir, "nope") + ": not a directory"},
		{"checkpoint without config", []string{"translate", "-k", dir, "x"}, "checkpoint " + dir + ": open " + filepath.Join(dir, "config.yaml")},
		{"bad batch size", []string{"translate", "-k", dir, "--batch-size", "0", "x"}, "--batch-size must be positive, got 0"},
		{"empty weights", []string{"translate", "-k", dir, "--weights", "", "x"}, "--weights must not be empty"},
		{"generate unknown task", []string{"generate", "sums", "--out", dir}, `unknown generated task "sums"`},
		{"generate without out", []string{"generate", "numbers"}, "--out is required"},
		{"export without flags", []string{"export"}, "--checkpoint and --out are required"},
		{"import missing weights", []string{"import", "--state-dict", filepath.Join(dir, "none.safetensors"), "--like", dir, "--out", filepath.Join(t.TempDir(), "imported")}, "checkpoint " + dir + ": open "},
		{"gradcheck bad tol", []string{"gradcheck", "--tol", "0"}, "--tol must be positive, got 0"},
		{"truncated weights", []string{"translate", "-k", truncated, "a b"}, filepath.Join(truncated, "checkpoints/step-0000001/model.safetensors") + ": checksum mismatch"},
		{"bad latest pointer", []string{"translate", "-k", badPointer, "--weights", "last", "a b"}, filepath.Join(badPointer, "latest") + `: does not name a checkpoint ("nowhere")`},
		{"unknown weights", []string{"translate", "-k", run, "--weights", "newest", "a"}, `unknown weights "newest" (want best or last, or a saved step`},
		{"resume with another config", []string{"train", "--resume", otherConfig}, filepath.Join(otherConfig, "checkpoints/step-0000001") + ": the model section of " + filepath.Join(otherConfig, "config.yaml") + " changed since step 1 was saved"},
		{"resume changes seed", []string{"train", "--resume", run, "--seed", "4"}, "--resume continues a run as it was"},
		{"empty corpus", []string{"train", "-c", cfg("e.yaml", "data:\n  train: {src: "+empty+", tgt: "+empty+"}\n  valid: {src: "+src+", tgt: "+src+"}\ntraining: {out_dir: "+filepath.Join(dir, "run-e")+"}\n")}, empty + ": training corpus is empty"},
		{"data path is a directory", []string{"train", "-c", cfg("d.yaml", "data:\n  train: {src: "+dir+", tgt: "+src+"}\n  valid: {src: "+src+", tgt: "+src+"}\n")}, filepath.Join(dir, "d.yaml") + ":2: data.train.src: " + dir + " is a directory, not a file"},
		{"validate finds problems", []string{"validate", "-c", cfg("v.yaml", strings.Replace(tinyConfig, "heads: 4", "heads: 5, attention_dropout: 3", 1))}, filepath.Join(dir, "v.yaml") + ": 2 problems, 0 warnings"},
		{"unknown kernel", []string{"bench", "--kernel", "sse9", "--steps", "2", "--warmup", "1"}, `--kernel: no "sse9" micro-kernel on this processor (it runs: `},
		{"negative max input", []string{"translate", "-k", run, "--max-input-tokens", "-1", "a"}, "--max-input-tokens must not be negative, got -1"},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d bad inputs", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectError(t, c.want, c.args...) })
	}
}

func TestTrainThenTranslate(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	cfg := writeFile(t, dir, "tiny.yaml", tinyConfig)
	status, out, stderr := runCLI(t, "", "train", "--config", cfg, "--out", run, "--seed", "3")
	if status != 0 {
		t.Fatalf("train: status %d, stderr %q", status, stderr)
	}
	if !strings.Contains(out, "step 250/250") || !strings.Contains(out, "test exact match:") {
		t.Errorf("train output lacks progress or the test figure:\n%s", out)
	}
	// Arguments: one line each.
	status, out, stderr = runCLI(t, "", "translate", "--checkpoint", run, "a b c", "d e")
	if status != 0 {
		t.Fatalf("translate: status %d, stderr %q", status, stderr)
	}
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 2 {
		t.Errorf("2 inputs gave %d lines: %q", len(lines), out)
	}
	// Standard input, including an empty line and unknown characters.
	status, out, stderr = runCLI(t, "b a\n\nzz ☃\nc d e\n", "translate", "--checkpoint", run)
	if status != 0 {
		t.Fatalf("translate stdin: status %d, stderr %q", status, stderr)
	}
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 4 || lines[1] != "" {
		t.Errorf("4 input lines gave %q", out)
	}

	// A very long line is truncated with a warning; invalid UTF-8 still
	// gives one line out per line in.
	long := strings.Repeat("a b ", 300)
	status, out, stderr = runCLI(t, long+"\n\xff\xfe a\n", "translate", "--checkpoint", run, "--max-input-tokens", "50")
	if status != 0 || strings.Count(out, "\n") != 2 {
		t.Fatalf("long and invalid lines: status %d, output %q, stderr %q", status, out, stderr)
	}
	if !strings.Contains(stderr, "warning: line 1: input of 1200 tokens truncated to 50") {
		t.Errorf("no truncation warning: %q", stderr)
	}

	// Export to a PyTorch state dict and import it back: same translations.
	st := filepath.Join(dir, "model.safetensors")
	if status, _, stderr = runCLI(t, "", "export", "--checkpoint", run, "--out", st); status != 0 {
		t.Fatalf("export: %s", stderr)
	}
	back := filepath.Join(dir, "imported")
	if status, _, stderr = runCLI(t, "", "import", "--state-dict", st, "--like", run, "--out", back); status != 0 {
		t.Fatalf("import: %s", stderr)
	}
	_, want, _ := runCLI(t, "b a\nc d e\n", "translate", "--checkpoint", run)
	_, got, _ := runCLI(t, "b a\nc d e\n", "translate", "--checkpoint", back)
	if got != want || want == "" {
		t.Errorf("imported checkpoint translates %q, original %q", got, want)
	}

	// int8 weights, quantised on loading: the reversal task is easy enough
	// that they translate as float32 does, greedily and with beam search.
	for _, beam := range []string{"1", "4"} {
		_, want, _ = runCLI(t, "b a\nc d e\na a b\n", "translate", "--checkpoint", run, "--beam", beam)
		status, got, stderr = runCLI(t, "b a\nc d e\na a b\n", "translate", "--checkpoint", run, "--beam", beam, "--dtype", "int8")
		if status != 0 || got != want {
			t.Errorf("--dtype int8 --beam %s: status %d, translations %q, float32 %q (%s)", beam, status, got, want, stderr)
		}
	}
}

func TestGradcheckCommand(t *testing.T) {
	status, out, stderr := runCLI(t, "", "gradcheck", "--layer", "layer_norm")
	if status != 0 || !strings.Contains(out, "PASS layer_norm") || !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("status %d, output %q, stderr %q", status, out, stderr)
	}
	status, _, stderr = runCLI(t, "", "gradcheck", "--layer", "nope")
	if status != 1 || !strings.Contains(stderr, `unknown layer "nope"`) {
		t.Errorf("unknown layer: status %d, stderr %q", status, stderr)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range []string{"train", "translate", "generate"} {
		status, out, _ := runCLI(t, "", c, "--help")
		if status != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: status %d, output %q", c, status, out)
		}
	}
}

func TestGenerateNumbers(t *testing.T) {
	dir := t.TempDir()
	status, out, stderr := runCLI(t, "", "generate", "numbers", "--out", dir, "--train-size", "50")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(out, "wrote 50 train, 1000 valid, 1000 test pairs") {
		t.Errorf("output %q", out)
	}
	en, _ := os.ReadFile(filepath.Join(dir, "test.en"))
	de, _ := os.ReadFile(filepath.Join(dir, "test.de"))
	if strings.Count(string(en), "\n") != 1000 || strings.Count(string(de), "\n") != 1000 {
		t.Error("test files do not hold 1000 lines each")
	}
}

// Every command's help has an Examples section, and every example runs a
// command that exists with flags it has (issue 20).
func TestEveryCommandHasExamples(t *testing.T) {
	root := rootCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" {
			t.Errorf("%s has no examples", c.Name())
			continue
		}
		for _, line := range strings.Split(c.Example, "\n") {
			f := strings.Fields(line)
			i := slices.Index(f, "transformer")
			if i < 0 {
				i = slices.Index(f, "./transformer")
			}
			if i < 0 || i+1 >= len(f) {
				continue // curl, or a comment
			}
			if f[i+1] != c.Name() {
				t.Errorf("%s: example %q runs %s", c.Name(), line, f[i+1])
			}
			for _, a := range f[i+2:] {
				if a == "#" || a == "<" {
					break
				}
				if strings.HasPrefix(a, "--") {
					if c.Flags().Lookup(strings.TrimPrefix(strings.SplitN(a, "=", 2)[0], "--")) == nil && root.PersistentFlags().Lookup(strings.TrimPrefix(a, "--")) == nil {
						t.Errorf("%s: example %q uses unknown flag %s", c.Name(), line, a)
					}
				}
			}
		}
	}
}

// train --dry-run prints the resolved config, the parameter count, the
// memory estimate and the first batch's shape, and writes nothing
// (issue 20).
func TestTrainDryRun(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", tinyConfig)
	out := filepath.Join(dir, "run")
	status, stdout, stderr := runCLI(t, "", "train", "-c", cfg, "--out", out, "--dry-run", "--steps", "7")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	for _, want := range []string{"  steps: 7\n", "model:        ", " parameters (encoder ", "memory:       ", "estimated peak memory",
		"the first batch is b", "dry run: nothing was trained or written"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the dry run made %s (%v)", out, err)
	}
	status, stdout, _ = runCLI(t, "", "train", "-c", cfg, "--dry-run", "--log-format", "json")
	var m map[string]any
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if status != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &m) != nil || m["event"] != "plan" || m["first_batch"] == "" {
		t.Errorf("JSON dry run: %d %q", status, stdout)
	}
}

// --set works on train, validate, translate and eval, validated as the
// file is and naming the --set when refused (issue 20).
func TestSetFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", tinyConfig)
	run := filepath.Join(dir, "run")
	if status, _, stderr := runCLI(t, "", "train", "-c", cfg, "--out", run, "--set", "training.steps=6", "--set", "training.valid_every=3"); status != 0 {
		t.Fatalf("train --set: %s", stderr)
	}
	if b := mustRead(t, filepath.Join(run, "config.yaml")); !strings.Contains(b, "steps: 6\n") || !strings.Contains(b, "valid_every: 3\n") {
		t.Errorf("the run's config lacks the --set values:\n%s", b)
	}
	if status, out, stderr := runCLI(t, "", "validate", "-c", cfg, "--set", "model.heads=3"); status != 1 || !strings.Contains(out, "--set model.heads=3: ") {
		t.Errorf("validate --set model.heads=3: %d %q %q", status, out, stderr)
	}
	_, plain, _ := runCLI(t, "", "translate", "-k", run, "a b c")
	status, beam, stderr := runCLI(t, "", "translate", "-k", run, "--set", "decoding.beam=3", "--nbest", "3", "a b c")
	if status != 0 || strings.Count(beam, "0 ||| ") != 3 || plain == beam {
		t.Errorf("translate --set decoding.beam=3 --nbest 3: %d %q %q", status, beam, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-c", cfg, "--out", filepath.Join(dir, "r2"), "--set", "training.stepz=3"}, `--set training.stepz=3: unknown key "stepz"`},
		{[]string{"train", "-c", cfg, "--out", filepath.Join(dir, "r3"), "--set", "training.steps=abc"}, "--set training.steps=abc: "},
		{[]string{"train", "-c", cfg, "--set", "steps"}, `--set "steps": want section.key=value`},
		{[]string{"translate", "-k", run, "--set", "model.heads=2", "a"}, "--set model.heads=2: only decoding.* keys apply to a trained run"},
		{[]string{"translate", "-k", run, "--set", "decoding.beam=0", "a"}, "--set decoding.beam=0: must be positive"},
	} {
		if status, _, stderr := runCLI(t, "", c.args...); status != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}
}

// Flags read alike across commands (issue 20): classify takes -c and -o,
// help shows no "(default -1)" after a default the config gives.
func TestFlagConsistency(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "lr.yaml", "data: {longrange: {length: 2, fillers: 4, train_size: 8}}\ntraining: {steps: 3}\n")
	if status, _, stderr := runCLI(t, "", "classify", "-c", bad, "-o", filepath.Join(dir, "out")); status != 1 || !strings.Contains(stderr, "data.longrange: length") {
		t.Errorf("classify -c -o: %d %q", status, stderr)
	}
	for _, c := range []string{"translate", "eval"} {
		_, out, _ := runCLI(t, "", c, "--help")
		if strings.Contains(out, "(default -1)") || !strings.Contains(out, "(default: the config's decoding.length_penalty)") {
			t.Errorf("%s --help:\n%s", c, out)
		}
	}
	_, out, _ := runCLI(t, "", "bench-long", "--help")
	if !strings.Contains(out, "--checkpoint-activations") || strings.Contains(out, "--checkpoint ") {
		t.Errorf("bench-long --help offers --checkpoint for gradient checkpointing:\n%s", out)
	}
	_, out, _ = runCLI(t, "", "import", "--help")
	if !strings.Contains(out, "--state-dict") || strings.Contains(out, "-w, --weights") {
		t.Errorf("import --help:\n%s", out)
	}
}

// TestKernelFlag runs a small bench with every kernel this CPU has, each
// forced with --kernel: the bench names the kernel that ran, in its first
// line and in its JSON line.
func TestKernelFlag(t *testing.T) {
	defer graph.UseKernel(graph.Kernel()) // the commands run in this process
	for _, k := range graph.Kernels() {
		status, stdout, stderr := runCLI(t, "", "bench", "--kernel", k, "--d-model", "16", "--heads", "2", "--layers", "1",
			"--ff", "32", "--vocab", "50", "--batch", "2", "--src-len", "4", "--tgt-len", "4", "--steps", "2", "--warmup", "1")
		if status != 0 {
			t.Fatalf("--kernel %s: exit %d: %s", k, status, stderr)
		}
		if !strings.HasPrefix(stdout, "kernel "+k+" (matrix products: ") {
			t.Fatalf("--kernel %s: output starts %q", k, strings.SplitN(stdout, "\n", 2)[0])
		}
		if !strings.Contains(stdout, `"kernel":"`+k+`"`) {
			t.Fatalf("--kernel %s: the JSON line does not name the kernel:\n%s", k, stdout)
		}
	}
}
