package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gotransformer/transformer/runlog"
)

// A short run writes metrics.jsonl and its curves in the run directory.
func TestRunWritesCurves(t *testing.T) {
	c := resumeConfig(t.TempDir(), 20)
	c.Training.ValidEvery = 10
	c.Training.LogEvery = 5
	tr := trainFor(t, c, false, context.Background())
	tr.Close()
	recs, err := runlog.Read(c.Training.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	var train, valid int
	for _, r := range recs {
		switch r.Kind {
		case "train":
			train++
		case "valid":
			valid++
			if _, ok := r.Values["exact_match"]; !ok {
				t.Errorf("validation record lacks exact_match: %+v", r)
			}
		}
	}
	if train != 5 || valid != 2 { // steps 1, 5, 10, 15, 20; valid at 10 and 20
		t.Errorf("%d train and %d valid records, want 5 and 2", train, valid)
	}
	for _, f := range []string{runlog.CurvesFile + ".png", runlog.CurvesFile + ".svg"} {
		if st, err := os.Stat(filepath.Join(c.Training.OutDir, f)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
