package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/sysmem"
)

// classifyBase is testdata/classify-small.yaml, which the command's tests
// share.
var classifyBase = readTestConfig("../testdata/classify-small.yaml")

func readTestConfig(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Hostile classify configs are refused with one line naming the file and
// the key: out-of-bounds sizes (bug 1), NaN, infinite and absurd values,
// globals outside the sequence or repeated, an empty test set (bug 2), and
// unknown keys reported with their line and section, not Go type names
// (bug 3).
func TestClassifyConfigBounds(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ old, new, want string }{
		{"batch_size: 8", "batch_size: 1000000000", ": training.batch_size: must be at most 65536, got 1000000000"},
		{"batch_size: 8", "batch_size: 201", ": training.batch_size: 201 exceeds the 200 sequences of data.longrange.train_size"},
		{"d_model: 32", "d_model: 100000", ": model.d_model: must be at most 16384"},
		{"learning_rate: 0.001", "learning_rate: .nan", ": training.learning_rate: must be a finite number, got NaN"},
		{"learning_rate: 0.001", "learning_rate: .inf", ": training.learning_rate: must be a finite number, got +Inf"},
		{"learning_rate: 0.001", "learning_rate: 1e300", ": training.learning_rate: must be in (0, 10], got 1e+300"},
		{"clip_norm: 1", "clip_norm: -.inf", ": training.clip_norm: must be a finite number"},
		{"dropout: 0", "dropout: .nan", ": model.dropout: must be a finite number"},
		{"test_size: 20", "test_size: 0", ": data.longrange.test_size: must be positive"},
		{"global: [0]", "global: [100000]", ": model.encoder.attention.global: position 100000 is outside the 64-token sequences"},
		{"global: [0]", "global: [0, 0, 0]", ": model.encoder.attention.global: position 0 is given twice"},
		{"warmup: 3", "warmup: -5", ": training.warmup: must be in [0, 1000000000], got -5"},
		{"fillers: 16", "fillers: 1", ": data.longrange.fillers: must be at least 2"},
		{"eval_every: 5", "eval_every: 0", ": training.eval_every: must be positive"},
		{"    seed: 1\n", "    seed: 1\n  bogus: 3\n", `:18: unknown key "bogus" in data`},
		{"  steps: 5\n", "  steps: 5\n  bogus: 3\n  more: 4\n", `:20: unknown key "bogus" in training`},
		{"    length: 64", "    length: 64\n    wat: 1", `:14: unknown key "wat" in data.longrange`},
		{"heads: 2", "heads: two", `:3: wrong type: "two" is a string, want an integer`},
		{"heads: 2", "heads: [2]", `:3: wrong type: a list, want an integer`},
	} {
		p := filepath.Join(dir, "c.yaml")
		text := strings.Replace(classifyBase, tc.old, tc.new, 1)
		if text == classifyBase {
			t.Fatalf("%q not in the base config", tc.old)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadClassifyConfig(p)
		if err == nil || !strings.HasPrefix(err.Error(), p+tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s → %s: error %v, want %q", tc.old, tc.new, err, p+tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "rundir.Classify") || strings.Contains(err.Error(), "unmarshal errors")) {
			t.Errorf("error names Go types: %v", err)
		}
	}
	p := filepath.Join(dir, "good.yaml")
	os.WriteFile(p, []byte(classifyBase), 0o644)
	if _, err := LoadClassifyConfig(p); err != nil {
		t.Errorf("base config: %v", err)
	}
}

// A classifier the machine cannot hold is refused before anything is
// allocated, naming the key to lower (bug 1).
func TestClassifyMemoryRefused(t *testing.T) {
	limit := sysmem.Limit{Bytes: 4 << 30, Source: "ulimit -v"}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte(classifyBase), 0o644)
	c, err := LoadClassifyConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MemoryProblem(limit); err != nil {
		t.Errorf("the base config does not fit in 4 GiB: %v", err)
	}
	big := *c
	big.Model.DModel, big.Model.FFDim = 8192, 32768
	if err := big.MemoryProblem(limit); err == nil || !strings.Contains(err.Error(), "model.d_model: a training step needs about") {
		t.Errorf("d_model 8192: %v", err)
	}
	wide := *c
	wide.Data.LongRange.Train, wide.Data.LongRange.Length, wide.Training.BatchSize = 100000, 500, 65536
	if err := wide.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := wide.MemoryProblem(limit); err == nil || !strings.Contains(err.Error(), "training.batch_size: a training step needs about") {
		t.Errorf("batch 65536: %v", err)
	}
	if err := big.MemoryProblem(sysmem.Limit{}); err != nil {
		t.Errorf("unknown memory refuses: %v", err)
	}
}
