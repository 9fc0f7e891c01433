package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/runlog"

	"github.com/gotransformer/transformer/graph"
)

func TestAverageCheckpoints(t *testing.T) {
	c := resumeConfig(t.TempDir(), 30)
	c.Training.ValidEvery = 10
	c.Training.SaveEvery = 0
	c.Training.KeepCheckpoints = 3
	c.Training.KeepBest = 3
	c.Training.BestMetric = "loss"
	run := c.Training.OutDir
	trainFor(t, c, false, context.Background()).Close()

	cks, err := filepath.Glob(filepath.Join(run, rundir.CheckpointsDir, "step-*"))
	if err != nil || len(cks) != 3 {
		t.Fatalf("%d checkpoints kept, want 3 (%v)", len(cks), err)
	}
	out := filepath.Join(t.TempDir(), "avg")
	names, err := rundir.AverageCheckpoints(run, "last", 2, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || !strings.HasSuffix(names[0], "step-0000020") || !strings.HasSuffix(names[1], "step-0000030") {
		t.Errorf("averaged %v, want steps 20 and 30", names)
	}
	avg, err := rundir.LoadCheckpoint(out, "best")
	if err != nil {
		t.Fatal(err)
	}
	var parts []*rundir.Checkpoint
	for _, n := range names {
		ck, err := rundir.LoadRun(run)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(run, n, rundir.WeightsFile))
		if err != nil {
			t.Fatal(err)
		}
		vals, _, err := model.DecodeSafetensors(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := ck.Model.Store.Load(vals); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, ck)
	}
	for _, name := range avg.Model.Store.Names() {
		got := graph.Float64s(avg.Model.Store.Get(name))
		a, b := graph.Float64s(parts[0].Model.Store.Get(name)), graph.Float64s(parts[1].Model.Store.Get(name))
		for i := range got {
			if want := (a[i] + b[i]) / 2; math.Abs(got[i]-want) > 1e-6*max(1, math.Abs(want)) {
				t.Fatalf("%s[%d] = %g, want the mean %g", name, i, got[i], want)
			}
		}
	}
	if len(avg.State.AveragedFrom) != 2 || avg.State.Step != 30 {
		t.Errorf("state %+v", avg.State)
	}

	best, err := rundir.AverageCheckpoints(run, "best", 3, filepath.Join(t.TempDir(), "best"))
	if err != nil || len(best) != 3 {
		t.Errorf("best 3: %v %v", best, err)
	}
	if _, err := rundir.AverageCheckpoints(run, "last", 5, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "only 3 are kept") {
		t.Errorf("too many: %v", err)
	}
	if _, err := rundir.AverageCheckpoints(run, "worst", 1, filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("no error for an unknown selection")
	}
}

func TestPatienceStopsTraining(t *testing.T) {
	c := resumeConfig(t.TempDir(), 400)
	c.Training.ValidEvery = 5
	c.Training.Patience = 2
	c.Training.BestMetric = "exact_match" // stays 0 on this tiny run: never improves after the first
	c.Training.LearningRate = 1e-9
	c.Training.Schedule = "constant"
	tr := trainFor(t, c, false, context.Background())
	defer tr.Close()
	if tr.state.Step != 15 { // validations at 5 (best), 10, 15
		t.Errorf("stopped at step %d, want 15", tr.state.Step)
	}
	recs, err := runlog.Read(c.Training.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	var bleu bool
	for _, r := range recs {
		_, ok := r.Values["bleu"]
		bleu = bleu || (r.Kind == "valid" && ok)
	}
	if !bleu {
		t.Error("validation records lack BLEU")
	}
}

func TestJointTokenizer(t *testing.T) {
	c := resumeConfig(t.TempDir(), 5)
	c.Data.JointTokenizer = true
	c.Data.SrcTokenizer.Merges = 10
	c.Model.ShareEmbeddings = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tr := trainFor(t, c, false, context.Background())
	defer tr.Close()
	if tr.Translation().SrcTok != tr.Translation().TgtTok || tr.Translation().Model.Store.Get("shared_embed.weight") == nil {
		t.Fatalf("joint tokenizer not shared: %p %p", tr.Translation().SrcTok, tr.Translation().TgtTok)
	}
	ck, err := rundir.LoadCheckpoint(c.Training.OutDir, "last")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ck.SrcTok.Vocab, ck.TgtTok.Vocab) || len(ck.SrcTok.Merges) == 0 {
		t.Errorf("saved tokenizers differ or have %d merges", len(ck.SrcTok.Merges))
	}
}
