package rundir

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/safeio"
)

// parseState decodes and range-checks a state.json; path names it in
// errors.
func parseState(path string, b []byte) (State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("%s: not a training state: %w", path, err)
	}
	if err := st.Check(); err != nil {
		return State{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Check reports a state no training run can have written: counters out of
// range, a best or validation step after the checkpoint's own, a metric
// that does not exist, or file checksums that are not SHA-256 digests.
func (st State) Check() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"step", st.Step}, {"epoch", st.Epoch}, {"pos", st.Pos}, {"adam_step", st.AdamStep},
		{"best_step", st.BestStep}, {"valid_step", st.ValidStep}, {"stale", st.Stale}, {"skipped_batches", st.Skipped}} {
		if f.v < 0 || f.v > MaxSteps {
			return fmt.Errorf("%s %d is out of range [0, %d]", f.name, f.v, MaxSteps)
		}
	}
	switch {
	case st.MicroBatches < 0:
		return fmt.Errorf("micro_batches %d is negative", st.MicroBatches)
	case st.Processes < 0 || st.Processes > MaxProcesses:
		return fmt.Errorf("processes %d is out of range [0, %d]", st.Processes, MaxProcesses)
	case st.BestStep > st.Step:
		return fmt.Errorf("best_step %d is after the checkpoint's step %d", st.BestStep, st.Step)
	case st.ValidStep > st.Step:
		return fmt.Errorf("valid_step %d is after the checkpoint's step %d", st.ValidStep, st.Step)
	case st.AdamStep > st.Step:
		return fmt.Errorf("adam_step %d is after the checkpoint's step %d", st.AdamStep, st.Step)
	case math.IsNaN(st.BestValue) || math.IsInf(st.BestValue, 0):
		return fmt.Errorf("best_value %g is not finite", st.BestValue)
	case !(st.TrainSeconds >= 0 && st.TrainSeconds < 1e10):
		return fmt.Errorf("train_seconds %g is out of range", st.TrainSeconds)
	}
	if _, ok := MetricSign(st.Metric); !ok && st.Metric != "" {
		return fmt.Errorf("unknown best_metric %q", st.Metric)
	}
	for _, m := range []struct {
		key     string
		digests map[string]string
	}{{"files", st.Files}, {"tokenizers_sha256", st.Tokenizers}} {
		names := make([]string, 0, len(m.digests))
		for n := range m.digests {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if d, err := hex.DecodeString(m.digests[n]); err != nil || len(d) != 32 {
				return fmt.Errorf("%s: %q has no SHA-256 digest (%q)", m.key, n, m.digests[n])
			}
		}
	}
	if st.ModelConfig != "" {
		if d, err := hex.DecodeString(st.ModelConfig); err != nil || len(d) != 32 {
			return fmt.Errorf("model_config_sha256 %q is not a SHA-256 digest", st.ModelConfig)
		}
	}
	return nil
}

// modelDigest is the SHA-256 of the config's model section as the run
// directory's config.yaml writes it: what the weights depend on. The
// training and decoding sections may change between resumptions
// (--steps, a new beam); the model may not.
func modelDigest(mc model.Config) string {
	b, err := yaml.Marshal(mc)
	if err != nil {
		return ""
	}
	return sha(b)
}

// stamp records in st what ties a checkpoint to its run directory: the
// digest of the model section and of the named tokenizer files.
func stamp(st *State, run string, mc model.Config, tokenizers []string) error {
	st.ModelConfig = modelDigest(mc)
	st.Tokenizers = nil
	if len(tokenizers) > 0 {
		st.Tokenizers = map[string]string{}
	}
	for _, name := range tokenizers {
		b, err := safeio.ReadFile(filepath.Join(run, name), safeio.TokenizerLimit, "tokenizer")
		if err != nil {
			return err
		}
		st.Tokenizers[name] = sha(b)
	}
	return nil
}

// verifyRun checks that the run directory's config and tokenizers are the
// ones checkpoint dir was saved with (checkpoints written before these
// digests were recorded pass).
func verifyRun(run, dir string, mc model.Config, st State) error {
	if st.ModelConfig != "" && st.ModelConfig != modelDigest(mc) {
		return fmt.Errorf("%s: the model section of %s changed since step %d was saved, so the weights do not fit it: restore it, or train a new run",
			dir, filepath.Join(run, ConfigFile), st.Step)
	}
	for _, name := range []string{SrcTokenizerFile, TgtTokenizerFile} {
		want, ok := st.Tokenizers[name]
		if !ok {
			continue
		}
		path := filepath.Join(run, name)
		b, err := safeio.ReadFile(path, safeio.TokenizerLimit, "tokenizer")
		if err != nil {
			return err
		}
		if sha(b) != want {
			return fmt.Errorf("%s: changed since step %d was saved, so the model's token ids no longer mean what they were trained on: restore it", path, st.Step)
		}
	}
	return nil
}
