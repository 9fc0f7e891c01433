package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/safeio"
)

// stepCheckpoint is one saved checkpoint of a run with its state.
type stepCheckpoint struct {
	rel   string // checkpoints/step-NNNNNNN
	state State
}

// listCheckpoints returns a run's complete checkpoints, oldest first.
func listCheckpoints(run string) ([]stepCheckpoint, error) {
	entries, err := os.ReadDir(filepath.Join(run, CheckpointsDir))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", run, err)
	}
	var out []stepCheckpoint
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "step-") {
			continue
		}
		rel := filepath.Join(CheckpointsDir, e.Name())
		st, err := readState(filepath.Join(run, rel))
		if err != nil {
			continue // incomplete or damaged: not a candidate
		}
		out = append(out, stepCheckpoint{rel, st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].state.Step < out[j].state.Step })
	return out, nil
}

// validValue returns the checkpoint's validation value of metric, signed
// so that higher is better, if the checkpoint was saved at a validation.
func (c stepCheckpoint) validValue(metric string) (float64, bool) {
	v, ok := c.state.Valid[metric]
	if !ok || c.state.ValidStep != c.state.Step {
		return 0, false
	}
	sign, _ := MetricSign(metric)
	return v * sign, true
}

// bestCheckpoints returns the n checkpoints with the best validation
// metric, best first.
func bestCheckpoints(cks []stepCheckpoint, metric string, n int) []stepCheckpoint {
	var valid []stepCheckpoint
	for _, c := range cks {
		if _, ok := c.validValue(metric); ok {
			valid = append(valid, c)
		}
	}
	sort.SliceStable(valid, func(i, j int) bool {
		a, _ := valid[i].validValue(metric)
		b, _ := valid[j].validValue(metric)
		return a > b
	})
	return valid[:min(n, len(valid))]
}

// AverageCheckpoints averages the weights of n checkpoints of run, the
// "last" n or the "best" n by the run's validation metric, and writes them
// as a new run directory outDir (config and tokenizers copied) that
// translate, eval and info load like any other. It returns the averaged
// checkpoints.
func AverageCheckpoints(run, which string, n int, outDir string) ([]string, error) {
	if n <= 0 {
		return nil, fmt.Errorf("the number of checkpoints to average must be positive, got %d", n)
	}
	if err := CheckOutputDir(outDir, false, run); err != nil {
		return nil, err
	}
	ck, err := LoadRun(run)
	if err != nil {
		return nil, err
	}
	all, err := listCheckpoints(run)
	if err != nil {
		return nil, err
	}
	var chosen []stepCheckpoint
	switch which {
	case "last":
		chosen = all[max(0, len(all)-n):]
	case "best":
		chosen = bestCheckpoints(all, ck.Config.Training.BestMetric, n)
	default:
		return nil, fmt.Errorf("unknown selection %q (want last or best)", which)
	}
	if len(chosen) < n {
		return nil, fmt.Errorf("checkpoint %s: %d checkpoints to average, but only %d are kept (%s); raise training.keep_checkpoints or keep_best",
			run, n, len(chosen), which)
	}
	sum := map[string][]float64{}
	var names []string
	for _, c := range chosen {
		dir := filepath.Join(run, c.rel)
		b, err := readCheckpointFile(dir, c.state, WeightsFile, weightsLimit(ck.Model.Store, 1))
		if err != nil {
			return nil, err
		}
		if err := loadWeights(ck.Model.Store, filepath.Join(dir, WeightsFile), b); err != nil {
			return nil, err
		}
		if f := ck.Model.Store.Half(); f != 0 {
			return nil, fmt.Errorf("checkpoint %s holds %v weights: average the float32 checkpoints, then convert the average", dir, f)
		}
		for _, name := range ck.Model.Store.Names() {
			s := sum[name]
			if s == nil {
				s = make([]float64, ck.Model.Store.Get(name).Shape().TotalSize())
				sum[name] = s
			}
			switch v := ck.Model.Store.Get(name).Data().(type) {
			case []float32:
				for i, x := range v {
					s[i] += float64(x)
				}
			case []float64:
				for i, x := range v {
					s[i] += x
				}
			}
		}
		names = append(names, c.rel)
	}
	k := float64(len(chosen))
	for name, s := range sum {
		switch v := ck.Model.Store.Get(name).Data().(type) {
		case []float32:
			for i := range v {
				v[i] = float32(s[i] / k)
			}
		case []float64:
			for i := range v {
				v[i] = s[i] / k
			}
		}
	}
	last := chosen[0].state
	for _, c := range chosen {
		if c.state.Step > last.Step {
			last = c.state
		}
	}
	st := State{Step: last.Step, Epoch: last.Epoch, Seed: last.Seed, Metric: last.Metric, AveragedFrom: names}
	if err := WriteRunLike(ck.Model, run, outDir, st); err != nil {
		return nil, err
	}
	return names, nil
}

// WriteRunLike makes outDir a run directory with the config and
// tokenizers of like and one checkpoint of m's weights, which both latest
// and best point at.
func WriteRunLike(m *model.Transformer, like, outDir string, st State) error {
	if err := CheckOutputDir(outDir, false, like); err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	lock, err := LockRun(outDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	for _, f := range []string{ConfigFile, SrcTokenizerFile, TgtTokenizerFile} {
		limit := int64(safeio.TokenizerLimit)
		if f == ConfigFile {
			limit = safeio.ConfigLimit
		}
		b, err := safeio.ReadFile(filepath.Join(like, f), limit, f)
		if err != nil {
			return err
		}
		if err := model.WriteFileAtomic(filepath.Join(outDir, f), b); err != nil {
			return err
		}
	}
	cfg, err := LoadConfig(filepath.Join(outDir, ConfigFile))
	if err != nil {
		return err
	}
	rel, err := Save(outDir, m.Store, Moments{}, st, cfg.Model, SrcTokenizerFile, TgtTokenizerFile)
	if err != nil {
		return err
	}
	return SetPointer(outDir, BestFile, rel)
}
