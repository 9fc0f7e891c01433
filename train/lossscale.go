package train

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Dynamic loss scaling for float16 training (rundir.LossScale). The scale
// and the count of clean steps live in the run's state, so that a resumed
// run continues with the scale it stopped at.

// scaling reports whether the run scales its loss: float16 training.
func (t *Trainer) scaling() bool { return t.Options.Dtype == "float16" }

// lossScale is the scale of the next step's loss: 1 without scaling, the
// configured initial scale before the first step.
func (t *Trainer) lossScale() float64 {
	if !t.scaling() {
		return 1
	}
	if t.state.LossScale == 0 {
		t.state.LossScale = t.Options.LossScale.Init
	}
	return t.state.LossScale
}

// unscale divides grads by the loss scale of the step that made them.
func (t *Trainer) unscale(grads []Param) {
	s := t.lossScale()
	if s == 1 {
		return
	}
	for _, g := range grads {
		scaleDense(g.Tensor, 1/s)
	}
}

// scaleDense multiplies a float tensor's values by s in place.
func scaleDense(t *tensor.Dense, s float64) {
	switch d := t.Data().(type) {
	case []float32:
		f := float32(s)
		for i := range d {
			d[i] *= f
		}
	case []float64:
		for i := range d {
			d[i] *= s
		}
	}
}

// adjustScale updates the loss scale after a step whose gradients were
// finite or overflowed, and logs each change. An overflow below the
// configured minimum scale is an error: the model has diverged.
func (t *Trainer) adjustScale(finite bool) error {
	if !t.scaling() {
		return nil
	}
	c := t.Options.LossScale
	s := t.lossScale()
	if finite {
		t.state.LossScaleClean++
		if t.state.LossScaleClean >= c.GrowthInterval {
			t.state.LossScale, t.state.LossScaleClean = 2*s, 0
			t.Log.Printf("step %d: loss scale %g after %d steps without overflow", t.state.Step, 2*s, c.GrowthInterval)
		}
		return nil
	}
	t.state.LossScale, t.state.LossScaleClean = s/2, 0
	if s/2 < c.Min {
		return fmt.Errorf("step %d: float16 gradients overflow at every loss scale down to %g (training.loss_scale.min %g): the run has diverged; lower training.learning_rate or train in bfloat16",
			t.state.Step, s/2, c.Min)
	}
	t.Log.Printf("step %d: float16 gradients overflowed at loss scale %g; skipped the step, scale now %g", t.state.Step, s, s/2)
	return nil
}
