package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
)

// testRun writes a run directory (config and tokenizers) for a small
// translator and returns it with the model.
func testRun(t *testing.T) (string, *model.Transformer, *Config) {
	t.Helper()
	dir := t.TempDir()
	tok := data.LearnBPE([]string{"a b c", "b c d"}, 2)
	for _, f := range []string{SrcTokenizerFile, TgtTokenizerFile} {
		if err := tok.Save(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	c := DefaultConfig()
	c.Model.DModel, c.Model.Heads, c.Model.FFDim, c.Model.EncoderLayers, c.Model.DecoderLayers = 8, 2, 16, 1, 1
	c.Model.SrcVocab, c.Model.TgtVocab = tok.Size(), tok.Size()
	c.Training.OutDir = dir
	c.Data.Generate = &data.Generated{Task: "copy", TrainSize: 4, ValidSize: 2, MinLen: 1, MaxLen: 3, Alphabet: 4}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(c.Model, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m, &c
}

// A full disk while saving gives a clear error, and the previous
// checkpoint stays the latest one, complete and loadable.
func TestFullDiskKeepsPreviousCheckpoint(t *testing.T) {
	dir, m, c := testRun(t)
	save := func(step int) error {
		_, err := Save(dir, m.Store, Moments{}, State{Step: step}, c.Model, SrcTokenizerFile, TgtTokenizerFile)
		return err
	}
	if err := save(5); err != nil {
		t.Fatal(err)
	}
	writes := 0
	writeFile = func(path string, data []byte) error {
		if writes++; writes > 1 { // the weights succeed, the moments fail
			return fmt.Errorf("writing %s: %w", path, syscall.ENOSPC)
		}
		return model.WriteFileSynced(path, data)
	}
	defer func() { writeFile = model.WriteFileSynced }()
	err := save(10)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "previous checkpoint is kept") {
		t.Fatalf("error %v", err)
	}
	writeFile = model.WriteFileSynced
	ck, err := LoadCheckpoint(dir, "last")
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.Step != 5 {
		t.Errorf("latest checkpoint at step %d, want 5", ck.State.Step)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, CheckpointsDir, ".tmp-*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// A checkpoint saved for one model section refuses another, and one
// stamped with tokenizers refuses a changed tokenizer file.
func TestSaveStampsModelAndTokenizers(t *testing.T) {
	dir, m, c := testRun(t)
	if _, err := Save(dir, m.Store, Moments{}, State{Step: 1}, c.Model, SrcTokenizerFile, TgtTokenizerFile); err != nil {
		t.Fatal(err)
	}
	other := c.Model
	other.Dropout = 0.3
	if _, err := LoadWeights(dir, "last", other, m.Store); err == nil || !strings.Contains(err.Error(), "the model section of") {
		t.Errorf("changed model section: %v", err)
	}
	if _, err := LoadWeights(dir, "last", c.Model, m.Store); err != nil {
		t.Errorf("same model section: %v", err)
	}
	os.WriteFile(filepath.Join(dir, TgtTokenizerFile), []byte(`{"vocab": []}`), 0o644)
	if _, err := LoadWeights(dir, "last", c.Model, m.Store); err == nil || !strings.Contains(err.Error(), "changed since step 1 was saved") {
		t.Errorf("changed tokenizer: %v", err)
	}
}

// Plots draw the metric a run keeps its best checkpoint by.
func TestBestMetric(t *testing.T) {
	dir := t.TempDir()
	if m, err := BestMetric(dir); m != "" || err != nil {
		t.Errorf("no config: %q, %v", m, err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"training: {best_metric: loss}\n", "loss"},
		{"training: {steps: 3}\n", "exact_match"},
		{"data: {longrange: {length: 20}}\ntraining: {steps: 3}\n", "accuracy"},
	} {
		os.WriteFile(filepath.Join(dir, ConfigFile), []byte(c.yaml), 0o644)
		if m, err := BestMetric(dir); m != c.want || err != nil {
			t.Errorf("%q: %q, %v; want %q", c.yaml, m, err, c.want)
		}
	}
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte("training: {best_metric: wer}\n"), 0o644)
	if _, err := BestMetric(dir); err == nil || !strings.Contains(err.Error(), `unknown training.best_metric "wer"`) {
		t.Errorf("unknown metric: %v", err)
	}
}
