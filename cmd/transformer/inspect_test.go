package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// trainTiny trains the tiny config with extra flags and returns the run
// directory and the command's stdout.
func trainTiny(t *testing.T, flags ...string) (dir, out string) {
	t.Helper()
	tmp := t.TempDir()
	dir = filepath.Join(tmp, "run")
	cfg := writeFile(t, tmp, "tiny.yaml", strings.Replace(tinyConfig, "steps: 250", "steps: 60", 1))
	cfg = writeFile(t, tmp, "tiny.yaml", strings.NewReplacer("valid_every: 125", "valid_every: 30", "log_every: 125", "log_every: 20").Replace(mustRead(t, cfg)))
	status, out, stderr := runCLI(t, "", append([]string{"train", "--config", cfg, "--out", dir}, flags...)...)
	if status != 0 {
		t.Fatalf("train %v: status %d, stderr %q", flags, status, stderr)
	}
	return dir, out
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTrainOutputModes(t *testing.T) {
	_, text := trainTiny(t)
	if strings.ContainsAny(text, "\r\x1b") {
		t.Errorf("escape codes in output that is not a terminal:\n%q", text)
	}
	for _, want := range []string{"step 20/60", "valid step 30:", "done: 60 steps"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}

	_, quiet := trainTiny(t, "--quiet")
	if lines := strings.Split(strings.TrimSpace(quiet), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "done: 60 steps") || !strings.HasPrefix(lines[2], "test BLEU ") {
		t.Errorf("--quiet printed more than the result:\n%s", quiet)
	}

	dir, js := trainTiny(t, "--log-format", "json")
	events := map[string]int{}
	var last map[string]any
	for i, line := range strings.Split(strings.TrimSpace(js), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", i+1, err, line)
		}
		events[m["event"].(string)]++
		last = m
	}
	if events["train"] != 4 || events["valid"] != 2 || events["result"] != 1 || events["log"] == 0 {
		t.Errorf("events %v, want 4 train (steps 1, 20, 40, 60), 2 valid, 1 result and some log", events)
	}
	if last["event"] != "result" || last["steps"] != 60.0 || last["run_dir"] != dir {
		t.Errorf("last line %v", last)
	}
	// The run directory keeps plain lines whatever the display.
	if log := mustRead(t, filepath.Join(dir, "train.log")); !strings.Contains(log, "] step 20/60") || strings.Contains(log, "{") {
		t.Errorf("train.log is not plain lines:\n%s", log)
	}
	if status, _, stderr := runCLI(t, "", "train", "--config", "x.yaml", "--log-format", "xml"); status != 1 || !strings.Contains(stderr, `--log-format must be text or json, got "xml"`) {
		t.Errorf("bad --log-format: %d %q", status, stderr)
	}
}

func TestInspectCommands(t *testing.T) {
	dir, _ := trainTiny(t)
	for _, f := range []string{"metrics.jsonl", "curves.png", "curves.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory lacks %s", f)
		}
	}

	status, out, stderr := runCLI(t, "", "info", "--checkpoint", dir)
	if status != 0 {
		t.Fatalf("info: %d %q", status, stderr)
	}
	for _, want := range []string{"d_model 32, 4 heads", "vocabularies: source 10 tokens (0 merges)", " of 60, epoch ",
		"best:         loss", "parameters:   ", "\n  encoder ", "\n    encoder.layers.0 ", "\n      encoder.layers.0.self_attn ",
		"exact_match ", "token_accuracy ", "(at step "} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}

	// Fractions read as percentages, as in the training log (issue 20).
	if m := regexp.MustCompile(`exact_match (\S+)`).FindStringSubmatch(out); m == nil || !strings.HasSuffix(m[1], "%,") {
		t.Errorf("info writes exact match as %q", m)
	}

	att := filepath.Join(t.TempDir(), "att")
	status, out, stderr = runCLI(t, "", "attention", "--checkpoint", dir, "--out", att, "a b c")
	if status != 0 {
		t.Fatalf("attention: %d %q", status, stderr)
	}
	for _, f := range []string{"encoder-layer0.png", "decoder-layer0.png", "cross-layer0.png", "index.html"} {
		if !strings.Contains(out, filepath.Join(att, f)) {
			t.Errorf("attention did not write %s:\n%s", f, out)
		}
	}
	b, _ := os.ReadFile(filepath.Join(att, "cross-layer0.png"))
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("cross-layer0.png: %v", err)
	}
	html := mustRead(t, filepath.Join(att, "index.html"))
	for _, bad := range []string{"http://", "https://", "<script src", "<link"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page needs the network: it contains %q", bad)
		}
	}
	status, out, _ = runCLI(t, "", "attention", "--checkpoint", dir, "--out", att, "--kind", "cross", "--layer", "0", "--head", "3", "--format", "svg", "a b")
	if status != 0 || !strings.Contains(out, "cross-layer0-head3.svg") || strings.Contains(out, "encoder-") {
		t.Errorf("one head as SVG: %d %q", status, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--head", "4"}, "--head 4: the model has 4 heads (0–3)"},
		{[]string{"--layer", "1"}, "--layer 1: the encoder stack has 1 layers (0–0)"},
		{[]string{"--kind", "sideways"}, `--kind must be all, encoder, decoder or cross, got "sideways"`},
		{[]string{"--format", "gif"}, `--format must be png or svg, got "gif"`},
	} {
		args := append([]string{"attention", "--checkpoint", dir, "--out", att, "a b"}, c.args...)
		if status, _, stderr := runCLI(t, "", args...); status != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}

	base := filepath.Join(t.TempDir(), "both")
	status, out, stderr = runCLI(t, "", "plot", dir, dir, "--out", base)
	if status != 0 || !strings.Contains(out, "wrote "+base+".png") {
		t.Errorf("plot: %d %q %q", status, out, stderr)
	}
	if status, _, stderr = runCLI(t, "", "plot", t.TempDir()); status != 1 || !strings.Contains(stderr, "metrics.jsonl") {
		t.Errorf("plot of a directory without metrics: %d %q", status, stderr)
	}
}

func TestInteractive(t *testing.T) {
	var out bytes.Buffer
	err := interactive(strings.NewReader("one\n  two  \n\nthree\n"), &out, func(s string) (string, error) { return strings.ToUpper(s), nil })
	if err != nil {
		t.Fatal(err)
	}
	want := "Type a sentence and press Enter; an empty line or Ctrl-D ends.\n> ONE\n> TWO\n> "
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestScoreAndEval(t *testing.T) {
	dir := t.TempDir()
	hyp := writeFile(t, dir, "hyp.txt", "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n")
	ref1 := writeFile(t, dir, "ref1.txt", "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n")
	ref2 := writeFile(t, dir, "ref2.txt", "The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n")
	status, out, stderr := runCLI(t, "", "score", "--hyp", hyp, "--ref", ref1, "--ref", ref2)
	if status != 0 {
		t.Fatalf("score: %d %q", status, stderr)
	}
	// sacreBLEU's README example: BLEU 48.53.
	if !strings.HasPrefix(out, "BLEU = 48.53 ") || !strings.Contains(out, "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp") || !strings.Contains(out, "chrF2 = ") {
		t.Errorf("score printed:\n%s", out)
	}
	if !strings.Contains(out, "exact match = 33.33% (1/3,") {
		t.Errorf("score printed no exact match against the first reference:\n%s", out)
	}
	// Short sentences have no 4-grams: BLEU is n/a, exact match says it all
	// (issue 20: "BLEU = 0.00 100.0/0.0/0.0/0.0" for perfect numbers).
	nums := writeFile(t, dir, "nums.txt", "vierhundert\neinundzwanzig\n")
	status, out, _ = runCLI(t, "", "score", "--hyp", nums, "--ref", nums)
	if status != 0 || !strings.HasPrefix(out, "BLEU = n/a: the hypotheses have no 4-grams") || !strings.Contains(out, "exact match = 100.00% (2/2,") {
		t.Errorf("perfect short hypotheses: %d\n%s", status, out)
	}
	// Hypotheses on standard input; sentence scores.
	status, out, stderr = runCLI(t, mustRead(t, hyp), "score", "--ref", ref1, "--sentence")
	if status != 0 || !strings.HasPrefix(out, "1\tBLEU = 100.00\tchrF2 = 100.00\n2\tBLEU = ") || !strings.Contains(out, "\nBLEU = ") {
		t.Errorf("score from stdin with --sentence: %d %q\n%s", status, stderr, out)
	}
	// Paired bootstrap: the better system is significantly better.
	worse := writeFile(t, dir, "worse.txt", "A cat.\nNo.\nThe man had just bitten him.\n")
	status, out, stderr = runCLI(t, "", "score", "--hyp", worse, "--hyp", hyp, "--ref", ref1, "--ref", ref2, "--paired-bs", "--paired-bs-n", "200")
	if status != 0 || !strings.Contains(out, "│ Baseline: "+worse) || !strings.Contains(out, "BLEU (μ ± 95% CI)") ||
		!strings.Contains(out, "Paired bootstrap resampling test with 200 resampling trials (seed 12345)") || !strings.Contains(out, "(p = ") {
		t.Errorf("paired bootstrap: %d %q\n%s", status, stderr, out)
	}
	short := writeFile(t, dir, "short.txt", "one line\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"score", "--hyp", hyp}, "--ref is required"},
		{[]string{"score", "--ref", ref1}, ref1 + " has 3 lines but standard input has 0"},
		{[]string{"score", "--hyp", hyp, "--hyp", ref1, "--ref", ref1}, "2 --hyp files: give --paired-bs"},
		{[]string{"score", "--hyp", hyp, "--paired-bs", "--ref", ref1}, "give at least two --hyp"},
		{[]string{"score", "--hyp", hyp, "--hyp", short, "--paired-bs", "--ref", ref1}, "the systems are not aligned"},
		{[]string{"score", "--hyp", hyp, "--ref", short}, short + " has 1 lines but " + hyp + " has 3: the files are not aligned"},
		{[]string{"score", "--hyp", hyp, "--ref", ref1, "--tokenize", "intl"}, `--tokenize: BLEU tokenizer "intl": want 13a or none`},
		{[]string{"score", "--hyp", filepath.Join(dir, "nope"), "--ref", ref1}, "nope: no such file"},
		{[]string{"eval", "--src", hyp, "--ref", ref1}, "--checkpoint and --src are required"},
	} {
		if status, _, stderr := runCLI(t, "", c.args...); status != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}

	run, _ := trainTiny(t)
	src := writeFile(t, dir, "src.txt", "a b c\nd e\nb\n")
	ref := writeFile(t, dir, "ref.txt", "c b a\ne d\nb\n")
	outFile := filepath.Join(dir, "out.txt")
	status, out, stderr = runCLI(t, "", "eval", "--checkpoint", run, "--src", src, "--ref", ref, "--out", outFile, "--log-format", "json")
	if status != 0 {
		t.Fatalf("eval: %d %q", status, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["event"] != "score" || m["sentences"] != 3.0 {
		t.Errorf("eval JSON %q: %v", out, err)
	}
	if lines := strings.Split(strings.TrimSpace(mustRead(t, outFile)), "\n"); len(lines) != 3 {
		t.Errorf("--out has %d lines", len(lines))
	}
}

func TestTranslateBeam(t *testing.T) {
	run, _ := trainTiny(t)
	status, out, stderr := runCLI(t, "a b c\n\nd e\n", "translate", "--checkpoint", run, "--beam", "3", "--nbest", "2")
	if status != 0 {
		t.Fatalf("beam: %d %q", status, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 { // 2 + the empty line's 1 + 2
		t.Fatalf("n-best output %q", out)
	}
	for i, prefix := range []string{"0 ||| ", "0 ||| ", "1 |||  ||| ", "2 ||| ", "2 ||| "} {
		if !strings.HasPrefix(lines[i], prefix) || strings.Count(lines[i], " ||| ") != 2 {
			t.Errorf("line %d %q, want prefix %q", i, lines[i], prefix)
		}
	}
	// --nbest alone searches with a beam of N.
	if status, out, stderr := runCLI(t, "a b c\n", "translate", "--checkpoint", run, "--nbest", "2"); status != 0 || strings.Count(out, "0 ||| ") != 2 {
		t.Errorf("--nbest 2 without --beam: %d %q %q", status, out, stderr)
	}
	// Beam 1 is greedy decoding.
	_, greedy, _ := runCLI(t, "a b c\nd e\n", "translate", "--checkpoint", run)
	_, beam1, _ := runCLI(t, "a b c\nd e\n", "translate", "--checkpoint", run, "--beam", "1")
	if greedy != beam1 {
		t.Errorf("--beam 1 gave %q, greedy %q", beam1, greedy)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--beam", "0"}, "--beam must be positive (1: greedy), got 0"},
		{[]string{"--beam", "2", "--nbest", "3"}, "--nbest 3 needs a beam of at least 3, got --beam 2"},
		{[]string{"--length-penalty", "-1"}, "--length-penalty must not be negative, got -1"},
		{[]string{"--nbest", "0"}, "--nbest must be in [1, 256], got 0"},
	} {
		args := append([]string{"translate", "--checkpoint", run, "a"}, c.args...)
		if status, _, stderr := runCLI(t, "", args...); status != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}
}

// A saved step can be chosen by --weights (step-0000030 or 30) or by
// giving its folder as the checkpoint (issue 20).
func TestTranslateChosenStep(t *testing.T) {
	run, _ := trainTiny(t)
	step := filepath.Join(run, "checkpoints", "step-0000030")
	var outs []string
	for _, args := range [][]string{{"-k", step}, {"-k", run, "--weights", "30"}, {"-k", run, "--weights", "step-0000030"}} {
		status, out, stderr := runCLI(t, "", append(append([]string{"translate"}, args...), "a b c")...)
		if status != 0 {
			t.Fatalf("%v: %d %q", args, status, stderr)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] || outs[1] != outs[2] {
		t.Errorf("the three ways to name step 30 translate differently: %q", outs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-k", step, "--weights", "last"}, "is step step-0000030 of the run"},
		{[]string{"-k", run, "--weights", "45"}, "no saved step step-0000045 (saved: step-0000030, step-0000060)"},
		{[]string{"-k", run, "--weights", "step-3x"}, `unknown weights "step-3x"`},
	} {
		if status, _, stderr := runCLI(t, "", append(append([]string{"translate"}, c.args...), "a")...); status != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}
}

func TestValidateDataDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"train.a", "train.b", "val.a", "val.b"} {
		writeFile(t, dir, f, "x y\nz\n")
	}
	cfg := writeFile(t, t.TempDir(), "files.yaml", "data:\n  dir: /nowhere\n  train: {src: train.a, tgt: train.b}\n  valid: {src: val.a, tgt: val.b}\n")
	if status, out, stderr := runCLI(t, "", "validate", "--config", cfg); status != 1 || !strings.Contains(out, "file /nowhere/train.a does not exist") {
		t.Errorf("without --data-dir: %d %q %q", status, out, stderr)
	}
	if status, out, stderr := runCLI(t, "", "validate", "--config", cfg, "--data-dir", dir); status != 0 || !strings.Contains(out, "ok") {
		t.Errorf("with --data-dir: %d %q %q", status, out, stderr)
	}
}

// --log-format json makes info, attention, plot and validate write JSON
// objects, as every other command does (issue 20).
func TestJSONOutputEverywhere(t *testing.T) {
	run, _ := trainTiny(t)
	cfg := writeFile(t, t.TempDir(), "tiny.yaml", tinyConfig)
	for _, args := range [][]string{
		{"info", "-k", run},
		{"attention", "-k", run, "--out", filepath.Join(t.TempDir(), "att"), "a b c"},
		{"plot", run, "--out", filepath.Join(t.TempDir(), "curves")},
		{"validate", "-c", cfg},
	} {
		status, out, stderr := runCLI(t, "", append(args, "--log-format", "json")...)
		if status != 0 {
			t.Fatalf("%v: %d %q", args, status, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["event"] == nil {
				t.Errorf("%v: line %q is not a JSON event: %v", args, l, err)
			}
		}
	}
}

// translate --samples draws translations: reproducibly from --seed, one
// per line with --samples 1 and N Moses-format lines with --samples N;
// --top-k 1 is greedy decoding; bad sampling flags are refused (issue 20).
func TestTranslateSampling(t *testing.T) {
	run, _ := trainTiny(t)
	in := "a b c\nd e\nb a\n"
	_, greedy, _ := runCLI(t, in, "translate", "-k", run)
	status, k1, stderr := runCLI(t, in, "translate", "-k", run, "--samples", "1", "--top-k", "1", "--temperature", "3")
	if status != 0 || k1 != greedy {
		t.Errorf("--top-k 1: %d %q %q, greedy %q", status, k1, stderr, greedy)
	}
	_, a, _ := runCLI(t, in, "translate", "-k", run, "--samples", "4", "--temperature", "2", "--seed", "5")
	_, b, _ := runCLI(t, in, "translate", "-k", run, "--samples", "4", "--temperature", "2", "--seed", "5", "--batch-size", "1")
	if a != b || strings.Count(a, "\n") != 12 || !strings.HasPrefix(a, "0 ||| ") || strings.Count(a, " ||| ") != 12 {
		t.Errorf("4 samples of 3 lines, seed 5:\n%s\nwith batches of 1:\n%s", a, b)
	}
	if _, c, _ := runCLI(t, in, "translate", "-k", run, "--samples", "4", "--temperature", "2", "--seed", "6"); c == a {
		t.Errorf("seeds 5 and 6 gave the same samples:\n%s", a)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--samples", "2", "--beam", "4"}, "--samples draws translations and --beam 4 searches"},
		{[]string{"--samples", "2", "--nbest", "2"}, "drop --nbest"},
		{[]string{"--temperature", "0.5"}, "give --samples N too"},
		{[]string{"--samples", "1", "--temperature", "0"}, "--temperature: must be a number in (0, 1e6]"},
		{[]string{"--samples", "1", "--top-p", "1.5"}, "--top-p: must be in [0, 1]"},
		{[]string{"--samples", "-1"}, "--samples must be in [0, 1000]"},
	} {
		if status, _, stderr := runCLI(t, "", append([]string{"translate", "-k", run, "a"}, c.args...)...); status != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}
}

// -k A -k B decodes with an ensemble: a model with itself translates as
// the model; two models of the same vocabularies decode together, in
// translate and eval; models of other vocabularies are refused (issue 20).
func TestEnsembleFlags(t *testing.T) {
	a, _ := trainTiny(t)
	b, _ := trainTiny(t, "--seed", "4")
	in := "a b c\nd e\n"
	_, one, _ := runCLI(t, in, "translate", "-k", a, "--beam", "2")
	status, twice, stderr := runCLI(t, in, "translate", "-k", a, "-k", a, "--beam", "2")
	if status != 0 || twice != one {
		t.Errorf("-k A -k A: %d %q %q, -k A: %q", status, twice, stderr, one)
	}
	if status, out, stderr := runCLI(t, in, "translate", "-k", a, "-k", b); status != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("-k A -k B: %d %q %q", status, out, stderr)
	}
	dir := t.TempDir()
	src, ref := writeFile(t, dir, "src.txt", in), writeFile(t, dir, "ref.txt", "c b a\ne d\n")
	if status, out, stderr := runCLI(t, "", "eval", "-k", a, "-k", b, "--src", src, "--ref", ref); status != 0 || !strings.Contains(out, "chrF2 = ") {
		t.Errorf("eval with an ensemble: %d %q %q", status, out, stderr)
	}
	other := filepath.Join(t.TempDir(), "other")
	cfg := writeFile(t, t.TempDir(), "other.yaml", strings.Replace(tinyConfig, "alphabet: 5", "alphabet: 7", 1))
	if status, _, stderr := runCLI(t, "", "train", "-c", cfg, "--out", other, "--steps", "2"); status != 0 {
		t.Fatal(stderr)
	}
	if status, _, stderr := runCLI(t, "", "translate", "-k", a, "-k", other, "a"); status != 1 || !strings.Contains(stderr, "an ensemble needs models of the same vocabularies") {
		t.Errorf("ensemble of two vocabularies: %d %q", status, stderr)
	}
}
