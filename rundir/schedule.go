package rundir

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of optimizer step 1, 2, ….
type Schedule interface {
	Rate(step int) float64
}

// NewSchedule returns the schedule a config names:
//
//	noam:         lr · d_model^−0.5 · min(step^−0.5, step · warmup^−1.5)
//	              ("Attention Is All You Need" §5.3; lr is the "factor")
//	inverse_sqrt: lr · min(step/warmup, sqrt(warmup/step)) (peak lr at warmup)
//	constant:     lr · min(1, step/warmup) (warmup 0: lr from the start)
func NewSchedule(name string, lr float64, warmup, dModel int) (Schedule, error) {
	switch name {
	case "noam":
		if warmup <= 0 {
			return nil, fmt.Errorf("noam needs warmup > 0")
		}
		return Noam{Factor: lr, Warmup: warmup, DModel: dModel}, nil
	case "inverse_sqrt":
		if warmup <= 0 {
			return nil, fmt.Errorf("inverse_sqrt needs warmup > 0")
		}
		return InverseSqrt{Peak: lr, Warmup: warmup}, nil
	case "constant":
		return Constant{LR: lr, Warmup: warmup}, nil
	}
	return nil, fmt.Errorf("unknown schedule %q (want noam, inverse_sqrt or constant)", name)
}

// Noam is the warm-up then inverse-square-root decay of Vaswani et al.
type Noam struct {
	Factor         float64
	Warmup, DModel int
}

// Rate implements Schedule.
func (n Noam) Rate(step int) float64 {
	s := float64(max(step, 1))
	return n.Factor * math.Pow(float64(n.DModel), -0.5) * math.Min(math.Pow(s, -0.5), s*math.Pow(float64(n.Warmup), -1.5))
}

// InverseSqrt warms up linearly to Peak, then decays as 1/sqrt(step)
// (fairseq's inverse_sqrt).
type InverseSqrt struct {
	Peak   float64
	Warmup int
}

// Rate implements Schedule.
func (s InverseSqrt) Rate(step int) float64 {
	x := float64(max(step, 1)) / float64(s.Warmup)
	return s.Peak * math.Min(x, 1/math.Sqrt(x))
}

// Constant is a fixed rate after an optional linear warm-up.
type Constant struct {
	LR     float64
	Warmup int
}

// Rate implements Schedule.
func (c Constant) Rate(step int) float64 {
	if c.Warmup > 0 && step < c.Warmup {
		return c.LR * float64(max(step, 1)) / float64(c.Warmup)
	}
	return c.LR
}
