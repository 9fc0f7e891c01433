package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotransformer/transformer/model"
)

// hostileCase is one bad input or fault, run as a separate process of the
// built binary under `ulimit -v 4194304` (4 GiB of address space) and a
// 30-second limit.
type hostileCase struct {
	class, name string
	args        []string
	stdin       string
	status      int    // expected exit status
	want        string // expected in stderr (the error line or a warning)
	check       func(t *testing.T)
}

// buildBinary builds the transformer command for the tests that run it as
// a process (on Linux, which has bash, ulimit -v, /dev/zero and signals;
// skipped with -short).
func buildBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("runs the binary under bash with ulimit -v, /dev/zero and Unix signals")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "transformer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runLimited runs the binary with args under the address-space limit, in
// a directory of its own.
// redirect, if not empty, is a shell redirection of the command
// ("> /dev/full", "< /dev/zero").
func runLimited(t *testing.T, bin, stdin, redirect string, args ...string) (status int, stdout, stderr string, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", `ulimit -v 4194304 && exec "$0" "$@" ` + redirect, bin}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	// A case whose config names no out_dir must not reach the default
	// checkpoints/run of the package directory.
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ctx.Err() != nil {
		t.Errorf("%v: still running after 30 s", args)
		return -1, out.String(), errb.String(), took
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return status, out.String(), errb.String(), took
}

// TestHostileInputs replays bad configs, flags, files and faults of every
// class against the built binary: each ends with its message and exit
// status, within 30 s, without a Go trace or an out-of-memory crash, and
// destroys nothing.
func TestHostileInputs(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	cfg := func(name, text string) string { return writeFile(t, dir, name, text) }
	replace := func(old, new string) string {
		if !strings.Contains(tinyConfig, old) {
			t.Fatalf("tinyConfig lacks %q", old)
		}
		return strings.Replace(tinyConfig, old, new, 1)
	}
	good := cfg("good.yaml", tinyConfig)
	trainRun := func(name string, config string) string {
		d := p(name)
		if status, _, stderr := runCLI(t, "", "train", "-c", config, "--out", d, "--steps", "2"); status != 0 {
			t.Fatalf("training %s: %s", name, stderr)
		}
		return d
	}
	run := trainRun("run", good)
	other := trainRun("other", cfg("other.yaml", replace("seed: 2}", "seed: 3}")))
	ckpt := filepath.Join(run, "checkpoints", "step-0000002")
	bf16Run := p("bf16")
	if status, _, stderr := runCLI(t, "", "convert", "-k", run, "--dtype", "bf16", "--out", bf16Run); status != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	copyRun := func(name string, damage func(d string)) string {
		d := p(name)
		if out, err := exec.Command("cp", "-a", run, d).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		damage(d)
		return d
	}
	ck := func(d string) string { return filepath.Join(d, "checkpoints", "step-0000002") }
	mustWrite := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, path string) {
		os.Remove(path)
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
	editConfig := func(d, old, new string) {
		b, _ := os.ReadFile(filepath.Join(d, "config.yaml"))
		if !strings.Contains(string(b), old) {
			t.Fatalf("config.yaml lacks %q", old)
		}
		mustWrite(filepath.Join(d, "config.yaml"), strings.Replace(string(b), old, new, 1))
	}
	editState := func(d, old, new string) {
		path := filepath.Join(ck(d), "state.json")
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), old) {
			t.Fatalf("state.json lacks %q", old)
		}
		mustWrite(path, strings.Replace(string(b), old, new, 1))
	}

	// Damaged runs.
	sparseWeights := copyRun("sparse", func(d string) {
		f, _ := os.OpenFile(filepath.Join(ck(d), "model.safetensors"), os.O_WRONLY, 0)
		f.Truncate(50 << 30)
		f.Close()
	})
	zeroConfig := copyRun("zeroconfig", func(d string) { link("/dev/zero", filepath.Join(d, "config.yaml")) })
	zeroLatest := copyRun("zerolatest", func(d string) { link("/dev/zero", filepath.Join(d, "latest")) })
	zeroState := copyRun("zerostate", func(d string) { link("/dev/zero", filepath.Join(ck(d), "state.json")) })
	zeroTok := copyRun("zerotok", func(d string) { link("/dev/zero", filepath.Join(d, "tgt_tokenizer.json")) })
	hugeStep := copyRun("hugestep", func(d string) { editState(d, `"step": 2,`, `"step": 9223372036854775807,`) })
	negPos := copyRun("negpos", func(d string) { editState(d, `"pos": `, `"pos": -7, "x_pos": `) })
	postLN := copyRun("postln", func(d string) { editConfig(d, "norm_first: true", "norm_first: false") })
	gelu := copyRun("gelu", func(d string) { editConfig(d, "activation: relu", "activation: gelu") })
	swappedTok := copyRun("swappedtok", func(d string) {
		path := filepath.Join(d, "tgt_tokenizer.json")
		b, _ := os.ReadFile(path)
		s := strings.Replace(strings.Replace(strings.Replace(string(b), `"a"`, `"@@TMP@@"`, 1), `"b"`, `"a"`, 1), `"@@TMP@@"`, `"b"`, 1)
		if s == string(b) {
			t.Fatal("tokenizer has no tokens a and b")
		}
		mustWrite(path, s)
	})
	swappedWeights := copyRun("swappedweights", func(d string) {
		b, _ := os.ReadFile(filepath.Join(ck(other), "model.safetensors"))
		mustWrite(filepath.Join(ck(d), "model.safetensors"), string(b))
	})
	truncTok := copyRun("trunctok", func(d string) {
		b, _ := os.ReadFile(filepath.Join(d, "src_tokenizer.json"))
		mustWrite(filepath.Join(d, "src_tokenizer.json"), string(b[:len(b)/2]))
	})
	dirConfig := copyRun("dirconfig", func(d string) {
		os.Remove(filepath.Join(d, "config.yaml"))
		os.Mkdir(filepath.Join(d, "config.yaml"), 0o755)
	})
	badMetrics := copyRun("badmetrics", func(d string) {
		mustWrite(filepath.Join(d, "metrics.jsonl"), `{"kind":"train","step":9223372036854775807,"epoch":1,"time":"2026-01-01T00:00:00Z","loss":1}`+"\n")
	})
	zeroMetrics := copyRun("zerometrics", func(d string) { link("/dev/zero", filepath.Join(d, "metrics.jsonl")) })
	locked := copyRun("locked", func(string) {})
	lockFile, err := os.OpenFile(filepath.Join(locked, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lockFile.Close()
	if err := syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	lockFile.WriteAt([]byte("4242\n"), 0)

	// A safetensors file whose header declares a shape of [2^63, 0].
	header := `{"x":{"dtype":"F32","shape":[9223372036854775808,0],"data_offsets":[0,0]}}`
	hugeShape := make([]byte, 8, 8+len(header))
	binary.LittleEndian.PutUint64(hugeShape, uint64(len(header)))
	hugeShape = append(hugeShape, header...)
	hugeShapeFile := p("hugeshape.safetensors")
	mustWrite(hugeShapeFile, string(hugeShape))
	sparseImport := p("sparse.safetensors")
	f, _ := os.Create(sparseImport)
	f.Truncate(50 << 30)
	f.Close()

	// Runs whose configs PyTorch's module does not compute.
	sliding := trainRun("sliding", cfg("sliding.yaml", replace("norm_first: true}", "norm_first: true,\n  encoder: {attention: {kind: sliding_window, window: 2}}}")))
	linear := trainRun("linear", cfg("linear.yaml", replace("norm_first: true}", "norm_first: true,\n  decoder: {attention: {kind: linear}}}")))
	perStack := trainRun("perstack", cfg("perstack.yaml", replace("norm_first: true}", "norm_first: true,\n  decoder: {positions: learned}}")))

	// Outputs that would replace a device, a FIFO, an input or a run's file.
	fifo := p("fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	srcCopy := cfg("src-copy.txt", "a b\nb c\n")
	stray := copyRun("stray", func(d string) { os.Mkdir(filepath.Join(d, "checkpoints", "step-0000009"), 0o755) })
	strayConfig := filepath.Join(stray, "config.yaml")
	wrongStep := copyRun("wrongstep", func(d string) { editState(d, `"step": 2,`, `"step": 3,`) })
	loopBest := copyRun("loopbest", func(d string) { link(filepath.Join(d, "best"), filepath.Join(d, "best")) })
	nanWeights := p("nan.safetensors")
	if status, _, stderr := runCLI(t, "", "export", "-k", run, "--out", nanWeights); status != 0 {
		t.Fatal(stderr)
	}
	{
		b, _ := os.ReadFile(nanWeights)
		vals, meta, err := model.DecodeSafetensors(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			v.Data().([]float32)[0] = float32(math.NaN())
			break
		}
		nb, _ := model.EncodeSafetensors(vals, meta)
		mustWrite(nanWeights, string(nb))
	}

	nonEmpty := p("notarun")
	os.Mkdir(nonEmpty, 0o755)
	mustWrite(filepath.Join(nonEmpty, "thesis.tex"), "keep me")
	aFile := cfg("afile", "x")
	src := cfg("src.txt", "a b\nb c\n")
	oneMB := strings.Repeat("a ", 1<<19)
	twoKB := strings.Repeat("a ", 1<<10)
	zeroData := cfg("zerodata.yaml", "data:\n  train: {src: /dev/zero, tgt: "+src+"}\n  valid: {src: "+src+", tgt: "+src+"}\n")
	dirData := cfg("dirdata.yaml", "data:\n  train: {src: "+dir+", tgt: "+src+"}\n  valid: {src: "+src+", tgt: "+src+"}\n")
	runConfig := filepath.Join(run, "config.yaml")
	before, _ := os.ReadFile(runConfig)
	intact := func(t *testing.T) {
		after, _ := os.ReadFile(runConfig)
		if !bytes.Equal(before, after) {
			t.Errorf("%s changed", runConfig)
		}
		if _, err := os.Stat(filepath.Join(ckpt, "model.safetensors")); err != nil {
			t.Errorf("the run's checkpoint is gone: %v", err)
		}
		if status, _, stderr := runCLI(t, "", "translate", "-k", run, "a b"); status != 0 {
			t.Errorf("the run no longer translates: %s", stderr)
		}
	}

	cases := []hostileCase{
		// Sizes without bounds, in configs.
		{"sizes", "d_model 200000000", []string{"train", "-c", cfg("s1.yaml", replace("d_model: 32", "d_model: 200000000"))}, "", 1, "model.d_model: must be at most 16384, got 200000000", nil},
		{"sizes", "validate d_model", []string{"validate", "-c", p("s1.yaml")}, "", 1, "1 problem", nil},
		{"sizes", "learned max_positions 1e9", []string{"train", "-c", cfg("s2.yaml", replace("norm_first: true}", "norm_first: true, positions: learned, max_positions: 1000000000}"))}, "", 1, "model.max_positions: must be in [0, 65536], got 1000000000", nil},
		{"sizes", "encoder_layers 1e7", []string{"validate", "-c", cfg("s3.yaml", replace("encoder_layers: 1", "encoder_layers: 10000000"))}, "", 1, "1 problem", nil},
		{"sizes", "relative_buckets 1e9", []string{"train", "-c", cfg("s4.yaml", replace("norm_first: true}", "norm_first: true, positions: relative, relative_buckets: 1000000000}"))}, "", 1, "model.relative_buckets: must be in [4, 1024], got 1000000000", nil},
		{"sizes", "train_size 1e11", []string{"train", "-c", cfg("s5.yaml", replace("train_size: 8", "train_size: 100000000000"))}, "", 1, "data.generate.train_size: train_size must be at most", nil},
		{"sizes", "window 1e9", []string{"train", "-c", cfg("s6.yaml", replace("norm_first: true}", "norm_first: true,\n  encoder: {attention: {kind: sliding_window, window: 1000000000}}}"))}, "", 1, "model.encoder.attention.window: must be at most 65536", nil},
		{"sizes", "batch_tokens 2^21", []string{"train", "-c", cfg("s7.yaml", replace("batch_tokens: 128", "batch_tokens: 2097152"))}, "", 1, "training.batch_tokens: must be at most 1048576", nil},
		{"sizes", "decoding.max_len 1e8", []string{"train", "-c", cfg("s8.yaml", tinyConfig+"decoding: {max_len: 100000000}\n")}, "", 1, "decoding.max_len: must be at most 1024, got 100000000", nil},
		{"sizes", "decoding.beam 1e6", []string{"train", "-c", cfg("s9.yaml", tinyConfig+"decoding: {beam: 1000000}\n")}, "", 1, "decoding.beam: must be at most 256", nil},
		{"sizes", "merges 1e9", []string{"train", "-c", cfg("s10.yaml", replace("src_tokenizer: {merges: 0}", "src_tokenizer: {merges: 1000000000}"))}, "", 1, "data.src_tokenizer.merges: must be at most", nil},
		{"sizes", "steps 2e9", []string{"train", "-c", cfg("s11.yaml", replace("steps: 250", "steps: 2000000000"))}, "", 1, "training.steps: must be at most 1000000000", nil},
		{"sizes", "model beyond memory", []string{"train", "-c", cfg("s12.yaml", replace("d_model: 32, heads: 4, ff_dim: 64, encoder_layers: 1, decoder_layers: 1", "d_model: 8192, heads: 4, ff_dim: 65536, encoder_layers: 8, decoder_layers: 8"))}, "", 1, "model.d_model: a training step needs about", nil},
		{"sizes", "validate beyond memory", []string{"validate", "-c", p("s12.yaml")}, "", 1, "2 problems", nil},
		{"sizes", "data.max_len 1e6", []string{"train", "-c", cfg("s13.yaml", replace("  tgt_tokenizer: {merges: 0}\n", "  tgt_tokenizer: {merges: 0}\n  max_len: 1000000\n"))}, "", 1, "data.max_len: must be at most 65536, got 1000000", nil},
		// Sizes without bounds, at run time.
		{"runtime", "beam 1e9", []string{"translate", "-k", run, "--beam", "1000000000", "a b"}, "", 1, "--beam must be at most 256", nil},
		{"runtime", "beam 100000", []string{"translate", "-k", run, "--beam", "100000", "a b"}, "", 1, "--beam must be at most 256", nil},
		{"runtime", "beam above vocabulary", []string{"translate", "-k", run, "--beam", "200", "a b"}, "", 1, "target vocabulary", nil},
		{"runtime", "1 MB line, no input limit", []string{"translate", "-k", run, "--max-input-tokens", "0"}, oneMB + "\n", 0, "truncated to 1024", nil},
		{"runtime", "input limit above the model's", []string{"translate", "-k", run, "--max-input-tokens", "100000", "a"}, "", 1, "--max-input-tokens", nil},
		{"runtime", "length penalty NaN", []string{"translate", "-k", run, "--beam", "2", "--length-penalty", "NaN", "a"}, "", 1, "--length-penalty", nil},
		{"runtime", "length penalty Inf", []string{"translate", "-k", run, "--beam", "2", "--length-penalty", "+Inf", "a"}, "", 1, "--length-penalty", nil},
		{"runtime", "nbest 1e9", []string{"translate", "-k", run, "--nbest", "1000000000", "a"}, "", 1, "--nbest", nil},
		{"runtime", "batch size 0", []string{"translate", "-k", run, "--batch-size", "0", "a"}, "", 1, "--batch-size must be positive", nil},
		{"runtime", "attention on 2 KB", []string{"attention", "-k", run, "-o", p("att"), twoKB}, "", 1, "attention is drawn for at most 256", nil},
		{"runtime", "generate train-size 1e11", []string{"generate", "numbers", "--out", p("gen1"), "--train-size", "100000000000"}, "", 1, "--train-size must be at most", nil},
		{"runtime", "generate train-size -5", []string{"generate", "numbers", "--out", p("gen2"), "--train-size", "-5"}, "", 1, "--train-size must not be negative, got -5", nil},
		{"runtime", "generate max-len 1e9", []string{"generate", "copy", "--out", p("gen3"), "--max-len", "1000000000"}, "", 1, "--max-len must be at most", nil},
		{"runtime", "eval beam 1e9", []string{"eval", "-k", run, "--src", src, "--ref", src, "--beam", "1000000000"}, "", 1, "--beam must be at most 256", nil},
		// Files read whole before any check.
		{"files", "sparse 50 GB weights", []string{"translate", "-k", sparseWeights, "a"}, "", 1, "model.safetensors: checkpoint file of 50.0 GiB is larger than its limit", nil},
		{"files", "config.yaml is /dev/zero", []string{"translate", "-k", zeroConfig, "a"}, "", 1, "config.yaml: config is not a regular file", nil},
		{"files", "latest is /dev/zero", []string{"translate", "-k", zeroLatest, "--weights", "last", "a"}, "", 1, "latest: latest pointer is not a regular file", nil},
		{"files", "state.json is /dev/zero", []string{"translate", "-k", zeroState, "a"}, "", 1, "state.json: training state is not a regular file", nil},
		{"files", "tokenizer is /dev/zero", []string{"translate", "-k", zeroTok, "a"}, "", 1, "tgt_tokenizer.json: tokenizer is not a regular file", nil},
		{"files", "resume with /dev/zero config", []string{"train", "--resume", zeroConfig}, "", 1, "config.yaml: config is not a regular file", nil},
		{"files", "config is /dev/zero", []string{"train", "-c", "/dev/zero"}, "", 1, "/dev/zero: config is not a regular file", nil},
		{"files", "validate /dev/zero", []string{"validate", "-c", "/dev/zero"}, "", 1, "/dev/zero: config is not a regular file", nil},
		{"files", "import shape [2^63, 0]", []string{"import", "--state-dict", hugeShapeFile, "--like", run, "--out", p("imp1")}, "", 1, "overflows", nil},
		{"files", "import sparse 50 GB", []string{"import", "--state-dict", sparseImport, "--like", run, "--out", p("imp2")}, "", 1, "is larger than its limit", nil},
		{"files", "state step 2^63-1: translate", []string{"translate", "-k", hugeStep, "a"}, "", 1, "step 9223372036854775807 is out of range", nil},
		{"files", "state step 2^63-1: resume", []string{"train", "--resume", hugeStep}, "", 1, "step 9223372036854775807 is out of range", nil},
		{"files", "state step 2^63-1: info", []string{"info", "-k", hugeStep}, "", 1, "step 9223372036854775807 is out of range", nil},
		{"files", "state negative pos: resume", []string{"train", "--resume", negPos}, "", 1, "pos -7 is out of range", nil},
		{"files", "truncated tokenizer", []string{"translate", "-k", truncTok, "a"}, "", 1, "src_tokenizer.json: not a tokenizer file", nil},
		{"files", "config.yaml is a directory", []string{"translate", "-k", dirConfig, "a"}, "", 1, "config.yaml: config is a directory", nil},
		{"files", "metrics step 2^63-1: plot", []string{"plot", badMetrics, "--out", p("plot1")}, "", 1, "is out of range", nil},
		{"files", "metrics /dev/zero: plot", []string{"plot", zeroMetrics, "--out", p("plot2")}, "", 1, "metrics file is not a regular file", nil},
		{"files", "corpus is /dev/zero", []string{"train", "-c", zeroData}, "", 1, "/dev/zero", nil},
		{"files", "corpus is a directory", []string{"validate", "-c", dirData}, "", 1, "problem", nil},
		{"files", "score hyp /dev/zero", []string{"score", "--hyp", "/dev/zero", "--ref", src}, "", 1, "/dev/zero", nil},
		{"files", "eval src /dev/zero", []string{"eval", "-k", run, "--src", "/dev/zero", "--ref", src}, "", 1, "/dev/zero", nil},
		// Runs destroyed silently.
		{"runs", "train another config over a run", []string{"train", "-c", cfg("o.yaml", replace("seed: 2}", "seed: 5}")), "--out", run}, "", 1, "already holds a run: continue it with --resume", intact},
		{"runs", "train the same config over a run", []string{"train", "-c", good, "--out", run}, "", 1, "already holds a run", intact},
		{"runs", "out inside a checkpoint", []string{"train", "-c", good, "--out", filepath.Join(ckpt, "nested")}, "", 1, "is inside the run " + run, intact},
		{"runs", "out is a checkpoint", []string{"train", "-c", good, "--out", ckpt}, "", 1, "is inside the run " + run, intact},
		{"runs", "out into a run's subfolder", []string{"train", "-c", good, "--out", filepath.Join(run, "sub")}, "", 1, "is inside the run", intact},
		{"runs", "average out equal to source", []string{"average", "-k", run, "--last", "1", "--out", run}, "", 1, "is (or holds, or is inside) the input run", intact},
		{"runs", "average out inside source", []string{"average", "-k", run, "--last", "1", "--out", filepath.Join(run, "avg")}, "", 1, "the input run", intact},
		{"runs", "convert out equal to source", []string{"convert", "-k", run, "--dtype", "bf16", "--out", run}, "", 1, "the input run", intact},
		{"runs", "convert to int8", []string{"convert", "-k", run, "--dtype", "int8", "--out", p("conv1")}, "", 1, `--dtype int8: convert writes f16, bf16 or f32 runs; int8 weights are quantised on loading`, nil},
		{"runs", "translate int8 from a bf16 run", []string{"translate", "-k", bf16Run, "--dtype", "int8", "a"}, "", 1, "--dtype int8: int8 quantises float32 weights, but this model's are bf16", nil},
		{"runs", "translate with an unknown dtype", []string{"translate", "-k", run, "--dtype", "fp8", "a"}, "", 1, `--dtype: unknown half-precision format "fp8"`, nil},
		{"runs", "convert without a dtype", []string{"convert", "-k", run, "--out", p("conv2")}, "", 1, "--checkpoint, --dtype and --out are required", nil},
		{"runs", "import out equal to like", []string{"import", "--state-dict", filepath.Join(ckpt, "model.safetensors"), "--like", run, "--out", run}, "", 1, "the input run", intact},
		{"runs", "a second train on a locked run", []string{"train", "--resume", locked}, "", 1, "is in use by another transformer process (pid 4242)", nil},
		{"runs", "train into a locked run with --overwrite", []string{"train", "-c", good, "--out", locked, "--overwrite"}, "", 1, "is in use by another transformer process", nil},
		{"runs", "overwrite and resume", []string{"train", "--resume", run, "--overwrite"}, "", 1, "give one of them", intact},
		{"runs", "out is a non-empty folder", []string{"train", "-c", good, "--out", nonEmpty}, "", 1, "is not empty and holds no run (it has thesis.tex)", nil},
		{"runs", "out is a file", []string{"train", "-c", good, "--out", aFile}, "", 1, "the output directory is a file", nil},
		{"runs", "resume a folder that holds no run", []string{"train", "--resume", nonEmpty}, "", 1, "it holds no run", nil},
		// A checkpoint tied to its config and vocabularies.
		{"tie", "config edited to post-LN", []string{"translate", "-k", postLN, "a"}, "", 1, "the model section of " + filepath.Join(postLN, "config.yaml") + " changed since step 2", nil},
		{"tie", "config edited to gelu", []string{"translate", "-k", gelu, "a"}, "", 1, "changed since step 2", nil},
		{"tie", "resume an edited config", []string{"train", "--resume", gelu}, "", 1, "changed since step 2", nil},
		{"tie", "swapped target tokens", []string{"translate", "-k", swappedTok, "a"}, "", 1, "tgt_tokenizer.json: changed since step 2 was saved", nil},
		{"tie", "weights from another run", []string{"translate", "-k", swappedWeights, "a"}, "", 1, "model.safetensors: checksum mismatch", nil},
		{"tie", "state of another step", []string{"translate", "-k", wrongStep, "a"}, "", 1, "step 3 belongs in step-0000003, not step-0000002", nil},
		{"tie", "best pointer loops", []string{"translate", "-k", loopBest, "a"}, "", 1, "best", nil},
		// Outputs that would replace a device, an input, or a run's file.
		{"outputs", "eval --out /dev/full", []string{"eval", "-k", run, "--src", src, "--ref", src, "--out", "/dev/full"}, "", 1, "--out /dev/full: not a regular file, refusing to replace it", nil},
		{"outputs", "export --out a FIFO", []string{"export", "-k", run, "--out", fifo}, "", 1, "not a regular file, refusing to replace it", nil},
		{"outputs", "export into the run", []string{"export", "-k", run, "--out", filepath.Join(ckpt, "model.safetensors")}, "", 1, "is inside the run " + run, intact},
		{"outputs", "eval --out the run's config", []string{"eval", "-k", run, "--src", src, "--ref", src, "--out", runConfig}, "", 1, "is inside the run", intact},
		{"outputs", "eval --out its source", []string{"eval", "-k", run, "--src", srcCopy, "--ref", src, "--out", srcCopy}, "", 1, "is the input " + srcCopy, nil},
		{"outputs", "bench --cpuprofile the run's config", []string{"bench", "--preset", "tiny", "--steps", "2", "--warmup", "1", "--cpuprofile", runConfig}, "", 1, "--cpuprofile", intact},
		{"outputs", "import NaN weights", []string{"import", "--state-dict", nanWeights, "--like", run, "--out", p("imp-nan")}, "", 1, "holds NaN", nil},
		{"runs", "a stray step folder", []string{"train", "--resume", stray, "--steps", "5"}, "", 0, "", func(t *testing.T) {
			if status, _, stderr := runCLI(t, "", "translate", "-k", stray, "a b"); status != 0 {
				t.Errorf("the run lost its checkpoints to a stray folder: %s", stderr)
			}
			if _, err := os.Stat(filepath.Join(stray, "checkpoints", "step-0000009")); err != nil {
				t.Errorf("the stray folder was deleted: %v", err)
			}
			_ = strayConfig
		}},
		{"runs", "resume below its step", []string{"train", "--resume", run, "--steps", "1"}, "", 1, "it is at step 2, past training.steps 1", intact},
		{"runtime", "attention --head -5", []string{"attention", "-k", run, "-o", p("att2"), "--head", "-5", "a b"}, "", 1, "--head and --layer take a number from 0", nil},
		{"runtime", "stdin is /dev/zero", []string{"translate", "-k", run}, "", 1, "standard input: line 1: longer than 64 MiB", nil},
		{"values", "float for an integer", []string{"train", "-c", cfg("v9.yaml", replace("warmup: 20", "warmup: 20.7"))}, "", 1, "training.warmup: wrong type: \"20.7\" is a float, want an integer", nil},
		{"values", "null value", []string{"train", "-c", cfg("v10.yaml", replace("warmup: 20", "warmup: ~"))}, "", 1, "training.warmup: null is not a value", nil},
		{"values", "escape sequence in a path", []string{"train", "-c", p("a\x1b[31mRED")}, "", 1, `a\x1b[31mRED`, nil},
		// Bad values.
		{"values", "max_len_a NaN", []string{"train", "-c", cfg("v1.yaml", tinyConfig+"decoding: {max_len_a: .nan}\n")}, "", 1, "decoding.max_len_a: must be a finite number, got NaN", nil},
		{"values", "layer_norm_eps NaN", []string{"train", "-c", cfg("v2.yaml", replace("norm_first: true}", "norm_first: true, layer_norm_eps: .nan}"))}, "", 1, "model.layer_norm_eps: must be a finite number, got NaN", nil},
		{"values", "learning_rate Inf", []string{"train", "-c", cfg("v3.yaml", replace("learning_rate: 0.003", "learning_rate: .inf"))}, "", 1, "training.learning_rate: must be a finite number, got +Inf", nil},
		{"values", "learning_rate NaN", []string{"train", "-c", cfg("v4.yaml", replace("learning_rate: 0.003", "learning_rate: .NaN"))}, "", 1, "training.learning_rate: must be a finite number, got NaN", nil},
		{"values", "dropout NaN", []string{"validate", "-c", cfg("v5.yaml", replace("dropout: 0", "dropout: .nan"))}, "", 1, "problem", nil},
		{"values", "second YAML document", []string{"train", "-c", cfg("v6.yaml", tinyConfig+"---\ntraining: {steps: 1}\n")}, "", 1, "a second YAML document (after ---): a config is one document", nil},
		{"values", "validate in one pass", []string{"validate", "-c", cfg("v7.yaml", strings.Replace(replace("steps: 250", "steps: -4\n  schedule_x: 1"), "schedule: constant", "schedule: cosine", 1))}, "", 1, "3 problems", nil},
		{"values", "max_time of 11 years", []string{"train", "-c", cfg("v8.yaml", replace("steps: 250", "steps: 250\n  max_time: 100000h"))}, "", 1, "training.max_time: must be at most a year", nil},
		// Exit statuses.
		{"exits", "translate to /dev/full", []string{"translate", "-k", run, "a b"}, "", 1, "writing standard output", nil},
		// Export exact or refused.
		{"export", "sliding window", []string{"export", "-k", sliding, "--out", p("e1.safetensors")}, "", 1, "encoder.attention", nil},
		{"export", "linear attention", []string{"export", "-k", linear, "--out", p("e2.safetensors")}, "", 1, "decoder.attention", nil},
		{"export", "per-stack positions", []string{"export", "-k", perStack, "--out", p("e3.safetensors")}, "", 1, "decoder.positions", nil},
	}
	// Redirections exec cannot make itself: bash does.
	redirect := map[string]string{"translate to /dev/full": "> /dev/full", "stdin is /dev/zero": "< /dev/zero"}
	if len(cases) < 60 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			status, stdout, stderr, took := runLimited(t, bin, c.stdin, redirect[c.name], c.args...)
			t.Logf("exit %d in %v: %s", status, took.Round(time.Millisecond), strings.TrimSpace(stderr))
			if status != c.status {
				t.Errorf("exit status %d, want %d (stderr %q, stdout %.200q)", status, c.status, stderr, stdout)
			}
			for _, bad := range []string{"goroutine ", "panic", "fatal error", "runtime."} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr holds a Go trace (%q): %.500s", bad, stderr)
				}
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q lacks %q", stderr, c.want)
			}
			if c.status != 0 {
				lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
				if last := lines[len(lines)-1]; !strings.HasPrefix(last, "transformer: ") {
					t.Errorf("the error is not one line starting with \"transformer: \": %q", stderr)
				}
			}
			if c.check != nil {
				c.check(t)
			}
		})
	}
}

// SIGINT and SIGTERM during training save a checkpoint and exit with 130
// and 143, and the run resumes from it.
func TestSignalsExitStatus(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "long.yaml", strings.Replace(tinyConfig, "steps: 250", "steps: 1000000", 1))
	for _, s := range []struct {
		sig    syscall.Signal
		status int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		run := filepath.Join(dir, s.sig.String())
		cmd := exec.Command(bin, "train", "-c", cfg, "--out", run)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the first logged step, then signal.
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(out.String(), "step 1/") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Signal(s.sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running 30 s after the signal", s.sig)
		}
		if got := cmd.ProcessState.ExitCode(); got != s.status {
			t.Errorf("%v: exit status %d, want %d (stderr %q)", s.sig, got, s.status, errb.String())
		}
		if !strings.Contains(errb.String(), "every checkpoint is saved; resume with: transformer train --resume "+run) {
			t.Errorf("%v: stderr %q", s.sig, errb.String())
		}
		if status, _, stderr := runCLI(t, "", "train", "--resume", run, "--steps", "260"); status != 0 {
			t.Errorf("%v: resume failed: %s", s.sig, stderr)
		}
	}
	// translate writes each chunk as it is done; a signal stops it with what
	// is done written, and says so.
	run := filepath.Join(dir, syscall.SIGINT.String())
	cmd := exec.Command(bin, "translate", "-k", run, "--batch-size", "16")
	cmd.Stdin = strings.NewReader(strings.Repeat("a b c d\n", 200000))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for out.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if got := cmd.ProcessState.ExitCode(); got != 143 || !strings.Contains(errb.String(), "transformer: interrupted by SIGTERM: ") ||
		!strings.Contains(errb.String(), " of 200000 lines translated and written") {
		t.Errorf("translate stopped by SIGTERM: exit %d, stderr %q", got, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n == 0 || n >= 200000 {
		t.Errorf("translate stopped by SIGTERM wrote %d lines", n)
	}
}
