package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
)

func nanParam(tr *Trainer) (restore func()) {
	p := tr.Translation().Model.Store.Get("output_projection.bias")
	if p == nil {
		p = tr.Translation().Model.Store.Get(tr.Translation().Model.Store.Names()[0])
	}
	d := p.Data().([]float32)
	old := d[0]
	d[0] = float32(math.NaN())
	return func() { d[0] = old }
}

// NaN in the loss stops the run with a clear error and leaves the last
// checkpoint intact; with on_nonfinite: skip the batch is skipped instead.
func TestNonFiniteLoss(t *testing.T) {
	dir := t.TempDir()
	trainFor(t, resumeConfig(dir, 5), false, context.Background())
	c := resumeConfig(dir, 10)
	tr, err := ResumeTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	nanParam(tr)
	_, err = tr.Run(context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Step != 6 || !strings.Contains(err.Error(), "the last checkpoint (checkpoints/step-0000005) is intact") {
		t.Fatalf("error %v", err)
	}
	tr.Close()
	ck, err := rundir.LoadCheckpoint(dir, "last")
	if err != nil || ck.State.Step != 5 {
		t.Fatalf("last checkpoint: %v, step %d", err, ck.State.Step)
	}
	for _, n := range ck.Model.Store.Names() {
		for _, v := range graph.Float64s(ck.Model.Store.Get(n)) {
			if math.IsNaN(v) {
				t.Fatalf("checkpoint holds NaN in %s", n)
			}
		}
	}

	// Skip: the bad batch changes nothing, training goes on.
	c = resumeConfig(dir, 10)
	c.Training.OnNonFinite = "skip"
	tr, err = ResumeTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	restore := nanParam(tr)
	before := graph.Float64s(tr.Translation().Model.Store.Get("encoder.layers.0.linear1.weight"))
	before = append([]float64(nil), before...)
	b, _ := tr.nextBatch()
	r, err := tr.TrainStep(b)
	if err != nil || !r.Skipped || tr.state.Skipped != 1 {
		t.Fatalf("skip: %+v, %v", r, err)
	}
	after := graph.Float64s(tr.Translation().Model.Store.Get("encoder.layers.0.linear1.weight"))
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("a skipped batch changed the weights")
		}
	}
	restore()
	if r, err := tr.TrainStep(b); err != nil || r.Skipped {
		t.Fatalf("step after skip: %+v, %v", r, err)
	}
}

// rewrite replaces a checkpoint file and records its checksum, so that the
// loader reaches the content checks.
func rewrite(t *testing.T, ckDir, name string, data []byte) {
	t.Helper()
	var st rundir.State
	raw, err := os.ReadFile(filepath.Join(ckDir, rundir.StateFile))
	if err != nil || json.Unmarshal(raw, &st) != nil {
		t.Fatalf("reading the state: %v", err)
	}
	os.WriteFile(filepath.Join(ckDir, name), data, 0o644)
	sum := sha256.Sum256(data)
	st.Files[name] = hex.EncodeToString(sum[:])
	b, _ := json.Marshal(st)
	os.WriteFile(filepath.Join(ckDir, rundir.StateFile), b, 0o644)
}

// Each damaged checkpoint gives a one-line error naming the problem.
func TestBadCheckpoints(t *testing.T) {
	src := t.TempDir()
	trainFor(t, resumeConfig(src, 3), false, context.Background())
	other := t.TempDir()
	oc := resumeConfig(other, 1)
	oc.Model.DModel, oc.Model.FFDim = 16, 32
	trainFor(t, oc, false, context.Background())
	otherWeights, _ := os.ReadFile(filepath.Join(other, rundir.CheckpointsDir, "step-0000001", rundir.WeightsFile))

	weights := func(edit func(map[string]*tensor.Dense)) func(t *testing.T, ck string) {
		return func(t *testing.T, ck string) {
			raw, _ := os.ReadFile(filepath.Join(ck, rundir.WeightsFile))
			vals, _, err := model.DecodeSafetensors(raw)
			if err != nil {
				t.Fatal(err)
			}
			edit(vals)
			b, err := model.EncodeSafetensors(vals, nil)
			if err != nil {
				t.Fatal(err)
			}
			rewrite(t, ck, rundir.WeightsFile, b)
		}
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, ck string)
		want   string
	}{
		{"truncated", func(t *testing.T, ck string) {
			b, _ := os.ReadFile(filepath.Join(ck, rundir.WeightsFile))
			os.WriteFile(filepath.Join(ck, rundir.WeightsFile), b[:len(b)/3], 0o644)
		}, "checksum mismatch: the file is corrupted or incomplete"},
		{"flipped byte", func(t *testing.T, ck string) {
			b, _ := os.ReadFile(filepath.Join(ck, rundir.WeightsFile))
			b[len(b)-5] ^= 0xff
			os.WriteFile(filepath.Join(ck, rundir.WeightsFile), b, 0o644)
		}, "checksum mismatch"},
		{"not safetensors", func(t *testing.T, ck string) { rewrite(t, ck, rundir.WeightsFile, []byte("hello")) }, "not a valid safetensors file"},
		{"wrong shape", weights(func(v map[string]*tensor.Dense) {
			v["encoder.layers.0.linear1.weight"] = graph.Zeroed(tensor.Float32, 3, 3)
		}), `tensor "encoder.layers.0.linear1.weight" has shape (3, 3)`},
		{"missing tensor", weights(func(v map[string]*tensor.Dense) { delete(v, "decoder.norm.bias") }), `missing tensor "decoder.norm.bias"`},
		{"extra tensor", weights(func(v map[string]*tensor.Dense) { v["mystery"] = graph.Zeroed(tensor.Float32, 2) }), `unexpected tensor "mystery"`},
		{"16-bit layer norm", weights(func(v map[string]*tensor.Dense) {
			v["decoder.norm.bias"] = graph.ToHalf(half.F16, v["decoder.norm.bias"])
		}), `tensor "decoder.norm.bias" is f16, but only the weight matrices of products and embeddings may be 16-bit`},
		{"another config", func(t *testing.T, ck string) { rewrite(t, ck, rundir.WeightsFile, otherWeights) }, "(was it written for another config?)"},
		{"garbage state", func(t *testing.T, ck string) {
			os.WriteFile(filepath.Join(ck, rundir.StateFile), []byte("{"), 0o644)
		}, "not a training state"},
		{"no state", func(t *testing.T, ck string) { os.Remove(filepath.Join(ck, rundir.StateFile)) }, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			copyDir(t, src, run)
			rel, _ := rundir.ReadPointer(run, rundir.LatestFile)
			c.damage(t, filepath.Join(run, rel))
			_, err := rundir.LoadCheckpoint(run, "last")
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line containing %q", err, c.want)
			}
		})
	}
	// A 16-bit matrix loads for translation, but a run does not resume
	// training on it.
	t.Run("resume a 16-bit matrix", func(t *testing.T) {
		run := filepath.Join(t.TempDir(), "run")
		copyDir(t, src, run)
		rel, _ := rundir.ReadPointer(run, rundir.LatestFile)
		weights(func(v map[string]*tensor.Dense) {
			v["decoder.layers.0.linear1.weight"] = graph.ToHalf(half.BF16, v["decoder.layers.0.linear1.weight"])
		})(t, filepath.Join(run, rel))
		if _, err := rundir.LoadCheckpoint(run, "last"); err != nil {
			t.Errorf("translation refused a bf16 matrix: %v", err)
		}
		ck, err := rundir.LoadRun(run)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = rundir.Resume(run, ck.Config.Model, ck.Model.Store)
		if err == nil || !strings.Contains(err.Error(), "holds bf16 weight matrices, and training keeps float32 weights") {
			t.Errorf("resume: %v", err)
		}
	})
	t.Run("pointer outside", func(t *testing.T) {
		run := filepath.Join(t.TempDir(), "run")
		copyDir(t, src, run)
		os.WriteFile(filepath.Join(run, rundir.LatestFile), []byte("../../etc\n"), 0o644)
		if _, err := rundir.LoadCheckpoint(run, "last"); err == nil || !strings.Contains(err.Error(), "does not name a checkpoint") {
			t.Errorf("error %v", err)
		}
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
