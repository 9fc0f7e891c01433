package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every shipped config loads and validates, run from the repository root
// as the README's commands are: longrange-*.yaml as `transformer classify`
// configs, the others as training configs. Configs for real corpora read
// ../shared/data: without it only their missing files may be reported.
func TestShippedConfigsLoad(t *testing.T) {
	t.Chdir("..")
	paths, _ := filepath.Glob("configs/*.yaml")
	if len(paths) < 6 {
		t.Fatalf("found %d configs", len(paths))
	}
	_, statErr := os.Stat("../shared/data")
	for _, p := range paths {
		var err error
		if strings.HasPrefix(filepath.Base(p), "longrange-") {
			_, err = LoadClassifyConfig(p)
		} else {
			var c *Config
			if c, err = LoadConfig(p); err == nil {
				err = roundTrip(c)
			}
		}
		switch {
		case err == nil:
		case statErr != nil && strings.Contains(err.Error(), "does not exist"):
			t.Logf("%s: ../shared/data is absent, so its data files cannot be checked: %v", p, err)
		default:
			t.Errorf("%s: %v", p, err)
		}
	}
}

// roundTrip checks that c, written as a run directory's config.yaml is,
// reads back to the same config (a corpus config once wrote
// "generate: null", which loading refuses).
func roundTrip(c *Config) error {
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	back, err := ParseConfig(c.Path, b)
	if err != nil {
		return fmt.Errorf("written as config.yaml, it does not load: %w", err)
	}
	if b2, _ := back.Marshal(); string(b2) != string(b) {
		return fmt.Errorf("written and read back, it changes:\n%s\n---\n%s", b, b2)
	}
	return nil
}

const goodConfig = `data:
  generate: {task: numbers, train_size: 100, valid_size: 10, test_size: 10}
model:
  d_model: 32
  heads: 4
training:
  steps: 10
`

func TestConfigDefaultsAndOverrides(t *testing.T) {
	c, err := ParseConfig("x.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.DModel != 32 || c.Model.Heads != 4 || c.Training.Steps != 10 {
		t.Errorf("values not read: %+v", c.Model)
	}
	if c.Model.FFDim != DefaultConfig().Model.FFDim || c.Training.Beta2 != 0.98 || c.Training.Eps != 1e-9 {
		t.Error("defaults not kept")
	}
}

// Every bad config gives one line naming the file, the line and the key.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "train.en")
	os.WriteFile(src, []byte("a\n"), 0o644)
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", goodConfig + "  learning_rat: 3\n", `bad.yaml:8: unknown key "learning_rat" in training`},
		{"unknown section", goodConfig + "optimizer: {}\n", `bad.yaml:8: unknown key "optimizer" in the top level`},
		{"wrong type", strings.Replace(goodConfig, "heads: 4", "heads: four", 1), `bad.yaml:5: wrong type: "four" is a str, want int`},
		{"not divisible", strings.Replace(goodConfig, "heads: 4", "heads: 5", 1), `bad.yaml:4: model.d_model: 32 is not divisible by heads (5)`},
		{"negative steps", strings.Replace(goodConfig, "steps: 10", "steps: -1", 1), `bad.yaml:7: training.steps: must be positive, got -1`},
		{"dropout", goodConfig[:strings.Index(goodConfig, "training:")] + "  dropout: 1.5\ntraining:\n  steps: 1\n", `bad.yaml:6: model.dropout: must be in [0, 1), got 1.5`},
		{"missing file", "data:\n  train: {src: " + src + ", tgt: " + filepath.Join(dir, "nope.de") + "}\n  valid: {src: " + src + ", tgt: " + src + "}\n",
			`bad.yaml:2: data.train.tgt: file ` + filepath.Join(dir, "nope.de") + ` does not exist`},
		{"no data", "model: {d_model: 32}\n", `bad.yaml: data: give data.generate, or data.train (src and tgt, or tsv)`},
		{"tsv and files", "data:\n  train: {src: a, tgt: b, tsv: c}\n  valid: {tsv: c}\n", `bad.yaml:2: data.train: give src and tgt files, or a tsv file, not both`},
		{"normal form", "data:\n  generate: {task: copy}\n  clean: {normalize: nfd}\n", `bad.yaml:3: data.clean.normalize: unknown Unicode normal form "nfd" (want nfc, nfkc or none)`},
		{"ratio", "data:\n  generate: {task: copy}\n  max_ratio: -1\n", `bad.yaml:3: data.max_ratio: must not be negative, got -1`},
		{"bad task", strings.Replace(goodConfig, "task: numbers", "task: sums", 1), `bad.yaml:2: data.generate.task: unknown generated task "sums"`},
		{"bad schedule", goodConfig + "  schedule: cosine\n", `bad.yaml:8: training.schedule: unknown schedule "cosine"`},
		{"bad metric", goodConfig + "  best_metric: meteor\n", `bad.yaml:8: training.best_metric: unknown metric "meteor" (want bleu, chrf, exact_match, token_accuracy, loss or perplexity)`},
		{"bad dtype", goodConfig + "  dtype: half\n", `bad.yaml:8: training.dtype: want float32, float64, bfloat16 or float16, got "half"`},
		{"loss scale without float16", goodConfig + "  dtype: bfloat16\n  loss_scale: {init: 1024}\n", `bad.yaml:9: training.loss_scale: applies to training.dtype float16 only (this run is bfloat16)`},
		{"loss scale min above init", goodConfig + "  dtype: float16\n  loss_scale: {init: 8, min: 16}\n", `bad.yaml:9: training.loss_scale.min: must be in [2^-24, init (8)], got 16`},
		{"loss scale not a power of two", goodConfig + "  dtype: float16\n  loss_scale: {init: 1000}\n", `bad.yaml:9: training.loss_scale.init: must be a power of two in [2^-24, 2^64] (so that scaling and unscaling are exact), got 1000`},
		{"loss scale too small", goodConfig + "  dtype: float16\n  loss_scale: {init: 1e-300, min: 1e-300}\n", `bad.yaml:9: training.loss_scale.init: must be a power of two in [2^-24, 2^64] (so that scaling and unscaling are exact), got 1e-300`},
		{"bad activation", strings.Replace(goodConfig, "heads: 4", "heads: 4\n  activation: swish", 1), `bad.yaml:6: model.activation: unknown activation "swish"`},
		{"bad yaml", "data: [\n", `bad.yaml:`},
		{"empty", "", `bad.yaml: empty config`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("bad.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("error\n  %s\nwant prefix\n  %s", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
		})
	}
}

// Run directories of corpus runs written before 2026-12-02 hold
// "generate: null" in config.yaml; it reads as no generator. Other nulls
// stay refused.
func TestGenerateNullReadsAsAbsent(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte("data:\n  generate: null\nmodel:\n  d_model: null\n"), &root); err != nil {
		t.Fatal(err)
	}
	errs := scalarProblems("config.yaml", &root)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "model.d_model: null is not a value") {
		t.Errorf("problems %v, want only model.d_model's null", errs)
	}
}
