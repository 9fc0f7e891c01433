// Package runlog is a run's record of training: the metrics.jsonl log of
// training intervals and validations, read back exactly as a resumed run
// left it, and the learning-curve plots drawn from it.
package runlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/safeio"
)

// MetricsFile is the run directory's record of training and validation
// figures, one JSON object per line.
const MetricsFile = "metrics.jsonl"

// MaxStep bounds the step and epoch of a record: no run trains longer
// (rundir.MaxSteps is this bound).
const MaxStep = 1_000_000_000

// Record is one line of metrics.jsonl: a training log interval (kind
// "train": loss, lr, grad_norm, tgt_tokens_per_s) or a validation (kind
// "valid": loss, perplexity, token_accuracy, exact_match, …).
type Record struct {
	Kind   string
	Step   int
	Epoch  int
	Time   time.Time
	Values map[string]float64
}

// MarshalJSON writes the record flat: {"kind":…,"step":…,"epoch":…,
// "time":…, then the values in key order}. Non-finite values are left out.
func (r Record) MarshalJSON() ([]byte, error) {
	m := map[string]any{"kind": r.Kind, "step": r.Step, "epoch": r.Epoch, "time": r.Time.UTC().Format(time.RFC3339Nano)}
	for k, v := range r.Values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[k] = v
		}
	}
	return json.Marshal(m) // maps are written in key order
}

// UnmarshalJSON reads a flat record.
func (r *Record) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = Record{Values: map[string]float64{}}
	for k, v := range m {
		switch k {
		case "kind":
			r.Kind, _ = v.(string)
		case "step", "epoch":
			f, ok := v.(float64)
			if !ok {
				return fmt.Errorf("%s is not a number", k)
			}
			if k == "step" {
				r.Step = int(f)
			} else {
				r.Epoch = int(f)
			}
		case "time":
			s, _ := v.(string)
			r.Time, _ = time.Parse(time.RFC3339Nano, s)
		default:
			if f, ok := v.(float64); ok {
				r.Values[k] = f
			}
		}
	}
	if r.Kind == "" {
		return fmt.Errorf("no kind")
	}
	return nil
}

// Append adds r to the run's metrics file.
func Append(dir string, r Record) error {
	f, err := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxMetricsLine is the longest line ReadMetrics reads.
const maxMetricsLine = 1 << 24

// Read reads a run's metrics.jsonl. Records written after the last
// checkpoint of a run that was killed and resumed are superseded: when the
// step of a kind goes back, the earlier records of that kind from that step
// on are dropped (so is an earlier record of the kind at the same step). A
// torn last line (a kill while writing) is ignored. The records come back
// sorted by step, in file order within a step. The cost is linear in the
// file (plus the final sort).
func Read(dir string) ([]Record, error) {
	path := filepath.Join(dir, MetricsFile)
	f, err := safeio.Open(path, safeio.MetricsLimit, "metrics file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Each kind's surviving records, in file order: their steps strictly
	// increase, so a record supersedes a suffix, popped in amortized O(1).
	type numbered struct {
		Record
		seq int
	}
	var kinds []string
	byKind := map[string][]numbered{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), maxMetricsLine)
	line := 0
	var bad error
	for sc.Scan() {
		line++
		if bad != nil { // only the last line may be torn
			return nil, bad
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			bad = fmt.Errorf("%s:%d: %v", path, line, err)
			continue
		}
		if r.Step < 0 || r.Step > MaxStep || r.Epoch < 0 || r.Epoch > MaxStep {
			return nil, fmt.Errorf("%s:%d: step %d or epoch %d is out of range [0, %d]", path, line, r.Step, r.Epoch, MaxStep)
		}
		recs, seen := byKind[r.Kind]
		if !seen {
			kinds = append(kinds, r.Kind)
		}
		for len(recs) > 0 && recs[len(recs)-1].Step >= r.Step {
			recs = recs[:len(recs)-1]
		}
		byKind[r.Kind] = append(recs, numbered{r, line})
	}
	if err := sc.Err(); err != nil {
		if bad != nil {
			return nil, bad
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d MiB", path, line+1, maxMetricsLine>>20)
		}
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	var all []numbered
	for _, k := range kinds {
		all = append(all, byKind[k]...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Step != all[j].Step {
			return all[i].Step < all[j].Step
		}
		return all[i].seq < all[j].seq
	})
	recs := make([]Record, len(all))
	for i, r := range all {
		recs[i] = r.Record
	}
	return recs, nil
}

// Cut drops the records of the run's metrics.jsonl logged after
// step (by a run killed after its last checkpoint), so that a resumed run
// logs those steps once; a torn last line goes too. The file is replaced
// atomically.
func Cut(dir string, step int) error {
	path := filepath.Join(dir, MetricsFile)
	b, err := safeio.ReadFile(path, safeio.MetricsLimit, "metrics file")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var kept []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		var r Record
		if len(line) == 0 || line[len(line)-1] != '\n' || json.Unmarshal(line, &r) != nil || r.Step > step {
			continue
		}
		kept = append(kept, line...)
	}
	if len(kept) == len(b) {
		return nil
	}
	return model.WriteFileAtomic(path, kept)
}
