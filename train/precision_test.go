package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/rundir"
)

// mixedConfig is resumeConfig in mixed precision; float16 doubles its loss
// scale after every 5 clean steps so that the scale changes within a run.
func mixedConfig(dir string, steps int, dtype string) *rundir.Config {
	c := resumeConfig(dir, steps)
	c.Training.Dtype = dtype
	if dtype == "float16" {
		c.Training.LossScale.GrowthInterval = 5
	}
	return c
}

// A bfloat16 or float16 run stopped, resumed, cancelled and resumed again
// ends bitwise where an uninterrupted one does, loss scale included.
func TestMixedPrecisionResumeIsExact(t *testing.T) {
	for _, dtype := range []string{"bfloat16", "float16"} {
		t.Run(dtype, func(t *testing.T) {
			const total = 24
			ref := trainFor(t, mixedConfig(t.TempDir(), total, dtype), false, context.Background())
			dir := t.TempDir()
			trainFor(t, mixedConfig(dir, 11, dtype), false, context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			trainFor(t, mixedConfig(dir, total, dtype), true, ctx)
			got := trainFor(t, mixedConfig(dir, total, dtype), true, context.Background())
			if got.state.Step != total {
				t.Fatalf("resumed run at step %d, want %d", got.state.Step, total)
			}
			if w := worstRelative(weightsOf(t, got), weightsOf(t, ref)); w != 0 {
				t.Errorf("resumed run differs from the uninterrupted one by %.3g relative", w)
			}
			if got.state.LossScale != ref.state.LossScale || got.state.LossScaleClean != ref.state.LossScaleClean {
				t.Errorf("loss scale %g (%d clean), uninterrupted %g (%d clean)",
					got.state.LossScale, got.state.LossScaleClean, ref.state.LossScale, ref.state.LossScaleClean)
			}
			f32 := trainFor(t, mixedConfig(t.TempDir(), total, "float32"), false, context.Background())
			if w := worstRelative(weightsOf(t, f32), weightsOf(t, ref)); w == 0 {
				t.Errorf("%s run equals the float32 run: its products were not rounded", dtype)
			}
			if dtype == "float16" && ref.state.LossScale <= rundir.DefaultLossScale.Init {
				t.Errorf("loss scale %g never grew from %g in %d steps", ref.state.LossScale, rundir.DefaultLossScale.Init, total)
			}
		})
	}
}

// mixedTrainer starts a float16 trainer over a fresh run of cfg.
func mixedTrainer(t *testing.T, c *rundir.Config) *Trainer {
	t.Helper()
	tr, err := NewTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// step runs one update of tr on its next batches.
func step(t *testing.T, tr *Trainer) StepResult {
	t.Helper()
	bs, err := tr.nextUpdate()
	if err != nil {
		t.Fatal(err)
	}
	r, err := tr.TrainStep(bs...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// float16 with a loss scale far too large: the scaled gradients overflow
// float16, so each step is skipped with the weights untouched and the
// scale halved, until a scale fits; from there the steps update the
// model, the scale grows again after training.loss_scale.growth_interval
// clean steps, and the loss falls.
func TestLossScaleSkipsOverflowAndRecovers(t *testing.T) {
	c := mixedConfig(t.TempDir(), 200, "float16")
	c.Model.Dropout = 0
	c.Training.LossScale.Init = math.Ldexp(1, 50)
	c.Training.LossScale.GrowthInterval = 4
	tr := mixedTrainer(t, c)

	before := weightsOf(t, tr)
	first := step(t, tr)
	if !first.Skipped {
		t.Fatalf("a loss scale of 2^50 did not overflow float16: %+v", first)
	}
	if w := worstRelative(weightsOf(t, tr), before); w != 0 {
		t.Errorf("the skipped step changed the weights by %.3g relative", w)
	}
	if tr.state.LossScale != math.Ldexp(1, 49) || tr.opt.Step != 0 {
		t.Errorf("after one overflow: scale %g, Adam step %d; want 2^49 and 0", tr.state.LossScale, tr.opt.Step)
	}
	skipped := 1
	for step(t, tr).Skipped {
		if skipped++; skipped > 50 {
			t.Fatal("still overflowing after 50 halvings")
		}
	}
	fitted := tr.state.LossScale
	if tr.state.Skipped != skipped || tr.opt.Step != 1 {
		t.Errorf("skipped %d (state %d), Adam step %d; want the skips counted and one update", skipped, tr.state.Skipped, tr.opt.Step)
	}
	var firstLoss, lastLoss float64
	grew := false
	for i := 0; i < 60; i++ {
		r := step(t, tr)
		if i == 0 {
			firstLoss = r.Loss
		}
		if !r.Skipped {
			lastLoss = r.Loss
		}
		grew = grew || tr.state.LossScale > fitted
	}
	if !grew {
		t.Errorf("the loss scale never grew past %g in 60 steps with growth_interval 4", fitted)
	}
	if !(lastLoss < firstLoss) || math.IsNaN(lastLoss) {
		t.Errorf("loss went from %g to %g after recovering", firstLoss, lastLoss)
	}
	if tr.opt.Step < 30 {
		t.Errorf("only %d updates in 60 steps after recovering", tr.opt.Step)
	}
}

// Gradients that overflow at every scale halve it until it falls below
// training.loss_scale.min, which stops the run with an error naming the
// key.
func TestLossScaleStopsBelowMinimum(t *testing.T) {
	c := mixedConfig(t.TempDir(), 20, "float16")
	c.Training.LossScale.Init, c.Training.LossScale.Min = 4, 1
	tr := mixedTrainer(t, c)
	for i, want := range []float64{2, 1} {
		if err := tr.adjustScale(false); err != nil || tr.state.LossScale != want {
			t.Fatalf("overflow %d: scale %g, error %v; want %g and none", i+1, tr.state.LossScale, err, want)
		}
	}
	err := tr.adjustScale(false)
	if err == nil || !strings.Contains(err.Error(), "training.loss_scale.min") {
		t.Fatalf("third overflow: error %v, want one naming training.loss_scale.min", err)
	}
}

// A loss that is not finite does not depend on the loss scale: a float16
// run with a NaN weight stops with the usual non-finite error (or, with
// on_nonfinite: skip, skips the batch), and the scale stays as it was.
func TestFloat16NonFiniteLoss(t *testing.T) {
	for _, policy := range []string{"stop", "skip"} {
		c := mixedConfig(t.TempDir(), 20, "float16")
		c.Training.OnNonFinite = policy
		tr := mixedTrainer(t, c)
		defer nanParam(tr)()
		bs, err := tr.nextUpdate()
		if err != nil {
			t.Fatal(err)
		}
		r, err := tr.TrainStep(bs...)
		var nf *NonFiniteError
		switch {
		case policy == "stop" && !errors.As(err, &nf):
			t.Errorf("stop: error %v, want a NonFiniteError", err)
		case policy == "skip" && (err != nil || !r.Skipped):
			t.Errorf("skip: %+v, error %v; want the batch skipped", r, err)
		}
		if tr.state.LossScale != rundir.DefaultLossScale.Init || tr.state.LossScaleClean != 0 {
			t.Errorf("%s: loss scale %g (%d clean) after a NaN loss, want %g untouched", policy,
				tr.state.LossScale, tr.state.LossScaleClean, rundir.DefaultLossScale.Init)
		}
	}
}

// A classifier trains in mixed precision too: its bfloat16 and float16
// steps give finite losses that differ from float32's.
func TestClassifierMixedPrecision(t *testing.T) {
	g := data.LongRange{Length: 12, Fillers: 5, Train: 3, Seed: 2}
	examples, _ := g.Generate()
	loss := func(dtype string) float64 {
		tc := rundir.ClassifyTraining{BatchSize: 3, LearningRate: 1e-3, Dtype: dtype, Seed: 4}
		tr, err := NewClassifyStepTrainer(classifyModel("full"), tc, g.Vocab(), 2)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		r, err := tr.TrainStep(ClassifyBatch(examples))
		if err != nil {
			t.Fatal(err)
		}
		return r.Loss
	}
	f32 := loss("float32")
	for _, dtype := range []string{"bfloat16", "float16"} {
		if l := loss(dtype); math.IsNaN(l) || math.IsInf(l, 0) || l == f32 {
			t.Errorf("%s: loss %v, float32 %v: want a finite loss that differs", dtype, l, f32)
		}
	}
}
