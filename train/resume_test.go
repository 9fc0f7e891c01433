package train

import (
	"context"
	"testing"
	"time"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/rundir"
)

func resumeConfig(dir string, steps int) *rundir.Config {
	c := overfitConfig(dir)
	c.Model.Dropout = 0.2 // exercise the dropout generator's saved state
	c.Data.Generate.TrainSize = 40
	c.Training.Steps = steps
	c.Training.ValidEvery = 1000
	c.Training.SaveEvery = 7
	c.Training.BatchTokens = 48
	c.Data.Generate.TestSize = 0
	return c
}

func trainFor(t *testing.T, c *rundir.Config, resume bool, ctx context.Context) *Trainer {
	t.Helper()
	newT := NewTrainer
	if resume {
		newT = ResumeTrainer
	}
	return runTrainer(t, ctx, func() (*Trainer, error) { return newT(context.Background(), c, nil) })
}

// runTrainer starts a trainer and runs it until ctx ends or it finishes.
func runTrainer(t *testing.T, ctx context.Context, start func() (*Trainer, error)) *Trainer {
	t.Helper()
	tr, err := start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	return tr
}

// A run stopped at step k (and at a second point by cancellation) and
// resumed ends with weights bitwise identical to an uninterrupted run.
func TestResumeIsExact(t *testing.T) {
	const total = 40
	ref := trainFor(t, resumeConfig(t.TempDir(), total), false, context.Background())

	dir := t.TempDir()
	trainFor(t, resumeConfig(dir, 17), false, context.Background()) // stops (and saves) at 17
	// Resume, then cancel at once: the run saves at the same step.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	trainFor(t, resumeConfig(dir, total), true, ctx)
	got := trainFor(t, resumeConfig(dir, total), true, context.Background())

	if got.state.Step != total || got.state.Epoch != ref.state.Epoch || got.state.Pos != ref.state.Pos {
		t.Fatalf("state %+v, want step %d epoch %d pos %d", got.state, total, ref.state.Epoch, ref.state.Pos)
	}
	for _, n := range ref.Translation().Model.Store.Names() {
		a, b := graph.Float64s(ref.Translation().Model.Store.Get(n)), graph.Float64s(got.Translation().Model.Store.Get(n))
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", n, i, b[i], a[i])
			}
		}
	}
	if ref.dropoutRNG.State != got.dropoutRNG.State {
		t.Error("dropout generator state differs")
	}
}

// training.max_time counts the training time of earlier runs: a run resumed
// past its budget stops at once.
func TestMaxTimeCountsResumedTime(t *testing.T) {
	dir := t.TempDir()
	first := trainFor(t, resumeConfig(dir, 17), false, context.Background())
	spent := first.state.TrainSeconds
	if spent <= 0 {
		t.Fatalf("the checkpoint records %v s of training", spent)
	}
	c := resumeConfig(dir, 40)
	c.Training.MaxTime = time.Duration(spent * float64(time.Second) / 2)
	tr, err := ResumeTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 17 {
		t.Fatalf("resumed run over its time budget trained to step %d, want 17", res.Steps)
	}
	if tr.state.TrainSeconds < spent {
		t.Fatalf("training time went from %v to %v s", spent, tr.state.TrainSeconds)
	}
}
