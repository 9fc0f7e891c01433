package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gotransformer/transformer/safeio"
)

// MetricsFile is the run directory's record of training and validation
// figures, one JSON object per line.
const MetricsFile = "metrics.jsonl"

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

// appendRecord adds r to the run's metrics file.
func appendRecord(dir string, r Record) error {
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

// ReadMetrics reads a run's metrics.jsonl. Records written after the last
// checkpoint of a run that was killed and resumed are superseded: when the
// step of a kind goes back, the earlier records from that step on are
// dropped. A torn last line (a kill while writing) is ignored.
func ReadMetrics(dir string) ([]Record, error) {
	path := filepath.Join(dir, MetricsFile)
	f, err := safeio.Open(path, safeio.MetricsLimit, "metrics file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
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
		if r.Step < 0 || r.Step > MaxSteps || r.Epoch < 0 || r.Epoch > MaxSteps {
			return nil, fmt.Errorf("%s:%d: step %d or epoch %d is out of range [0, %d]", path, line, r.Step, r.Epoch, MaxSteps)
		}
		kept := recs[:0]
		for _, old := range recs {
			if old.Kind != r.Kind || old.Step < r.Step {
				kept = append(kept, old)
			}
		}
		recs = append(kept, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Step < recs[j].Step })
	return recs, nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
