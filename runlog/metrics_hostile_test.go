package runlog

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// naiveMetrics is the former quadratic ReadMetrics filter: each record
// drops the earlier records of its kind at its step or later; the
// survivors are sorted by step, stably.
func naiveMetrics(in []Record) []Record {
	var recs []Record
	for _, r := range in {
		kept := recs[:0:0]
		for _, old := range recs {
			if old.Kind != r.Kind || old.Step < r.Step {
				kept = append(kept, old)
			}
		}
		recs = append(kept, r)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Step < recs[j].Step })
	return recs
}

func writeRecords(t testing.TB, recs []Record) string {
	t.Helper()
	var b bytes.Buffer
	for i, r := range recs {
		fmt.Fprintf(&b, `{"kind":%q,"step":%d,"n":%d}`+"\n", r.Kind, r.Step, i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sameRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Kind != want[i].Kind || got[i].Step != want[i].Step || got[i].Values["n"] != want[i].Values["n"] {
			t.Fatalf("record %d: %s %d #%g, want %s %d #%g", i, got[i].Kind, got[i].Step, got[i].Values["n"],
				want[i].Kind, want[i].Step, want[i].Values["n"])
		}
	}
}

// The linear ReadMetrics keeps exactly the records, in exactly the order,
// of the quadratic filter, on random logs of several kinds whose steps go
// back (resumes), repeat and interleave.
func TestReadMetricsMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 300; trial++ {
		var in []Record
		step := map[string]int{}
		for i := rng.Intn(60); i > 0; i-- {
			k := []string{"train", "valid", "test"}[rng.Intn(3)]
			switch rng.Intn(6) {
			case 0:
				step[k] = max(0, step[k]-rng.Intn(20)) // resumed
			case 1: // the same step again
			default:
				step[k] += rng.Intn(5)
			}
			in = append(in, Record{Kind: k, Step: step[k], Values: map[string]float64{"n": float64(len(in))}})
		}
		got, err := Read(writeRecords(t, in))
		if err != nil {
			t.Fatal(err)
		}
		sameRecords(t, got, naiveMetrics(in))
	}
}

// 200k distinct training steps (what made `transformer plot` take minutes),
// with a resume at the end: read correctly; BenchmarkReadMetrics times it.
func TestReadMetricsManySteps(t *testing.T) {
	const n = 200000
	in := make([]Record, 0, n+3)
	for s := 1; s <= n; s++ {
		in = append(in, Record{Kind: "train", Step: s, Values: map[string]float64{"n": float64(len(in))}})
		if s%50000 == 0 {
			in = append(in, Record{Kind: "valid", Step: s, Values: map[string]float64{"n": float64(len(in))}})
		}
	}
	// Resumed from step n−10: the last ten training records are superseded.
	in = append(in, Record{Kind: "train", Step: n - 10, Values: map[string]float64{"n": float64(len(in))}})
	got, err := Read(writeRecords(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n-10+4 {
		t.Fatalf("%d records, want %d", len(got), n-10+4)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Step < got[i-1].Step {
			t.Fatalf("record %d: step %d after %d", i, got[i].Step, got[i-1].Step)
		}
	}
	if last := got[len(got)-1]; last.Kind != "valid" || last.Step != n {
		t.Errorf("last record %s %d, want valid %d", last.Kind, last.Step, n)
	}
	if r := got[len(got)-2]; r.Kind != "train" || r.Step != n-10 || r.Values["n"] != float64(len(in)-1) {
		t.Errorf("the resumed record is %s %d #%g", r.Kind, r.Step, r.Values["n"])
	}
}

// A line longer than the scanner's 16 MiB is reported with its path and
// line number, not as "bufio.Scanner: token too long".
func TestReadMetricsLongLine(t *testing.T) {
	dir := t.TempDir()
	long := `{"kind":"train","step":2,"x":"` + strings.Repeat("a", 17<<20) + `"}`
	b := `{"kind":"train","step":1}` + "\n" + long + "\n"
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(dir)
	want := filepath.Join(dir, MetricsFile) + ":2: line longer than 16 MiB"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func BenchmarkRead(b *testing.B) {
	in := make([]Record, 120000)
	for i := range in {
		in[i] = Record{Kind: "train", Step: i + 1}
	}
	dir := writeRecords(b, in)
	for b.Loop() {
		if _, err := Read(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// A resumed run first drops what its killed predecessor logged after the
// checkpoint it resumes from (and a torn last line), so no step is logged
// twice.
func TestCutMetrics(t *testing.T) {
	dir := t.TempDir()
	for s := 1; s <= 5; s++ {
		if err := Append(dir, Record{Kind: "train", Step: s, Values: map[string]float64{"loss": float64(s)}}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"train","st`)
	f.Close()
	if err := Cut(dir, 3); err != nil {
		t.Fatal(err)
	}
	recs, err := Read(dir)
	if err != nil || len(recs) != 3 || recs[2].Step != 3 {
		t.Fatalf("after cutting at step 3: %+v, %v", recs, err)
	}
	if err := Cut(t.TempDir(), 3); err != nil {
		t.Errorf("a run without metrics: %v", err)
	}
}
