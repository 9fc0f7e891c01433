package bench

import (
	"context"
	"math"
	"testing"
)

// Run runs the reference's loop on a very small shape and reports
// sensible figures (this is not a timing test: only shapes and counts are
// checked).
func TestBenchSmallShape(t *testing.T) {
	o := DefaultOptions()
	o.DModel, o.Heads, o.Layers, o.FF, o.Vocab, o.Batch, o.SrcLen, o.TgtLen = 16, 2, 1, 32, 40, 4, 6, 5
	o.Steps, o.Warmup = 4, 1
	var steps int
	res, err := Run(context.Background(), o, func(int, float64, float64) { steps++ })
	if err != nil {
		t.Fatal(err)
	}
	if steps != 4 || res.TimedSteps != 3 || res.SecPerStepMedian <= 0 || res.TgtPositionsPerS <= 0 || res.PeakRSSMB <= 0 {
		t.Errorf("result %+v after %d steps", res, steps)
	}
	if want := o.FlopsPerStep() / 1e9; math.Abs(res.TrainGFlopPerStep-want) > 1e-12 || want <= 0 {
		t.Errorf("GFLOP per step %g, want %g", res.TrainGFlopPerStep, want)
	}
	if res.LossFirst < 3 || res.LossFirst > 5 { // about ln(40) = 3.7 at the start
		t.Errorf("first loss %g", res.LossFirst)
	}
	o.Decode, o.DecodeBatch, o.DecodeSrcLen, o.DecodeLen, o.DecodeReps = true, 3, 5, 6, 1
	res, err = Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.DecodeKVCacheSentPerS <= 0 || res.DecodeRecomputeSentPerS <= 0 || res.DecodeSame == nil || !*res.DecodeSame {
		t.Errorf("decode result %+v", res)
	}
	// Beam search: the cached variant alone, its width in the result.
	o.DecodeBeam = 3
	res, err = Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.DecodeBeam != 3 || res.DecodeKVCacheSentPerS <= 0 || res.DecodeRecomputeSentPerS != 0 || res.DecodeSame != nil {
		t.Errorf("beam decode result %+v", res)
	}
	o.DecodeBeam = 1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, decode := range []bool{false, true} {
		o.Decode = decode
		if _, err := Run(ctx, o, nil); err != context.Canceled {
			t.Errorf("decode %v with a cancelled context: %v, want context.Canceled", decode, err)
		}
	}
	lo := DefaultLongOptions()
	lo.SeqLen, lo.Layers, lo.DModel, lo.FFDim, lo.Steps = 16, 1, 16, 32, 1
	if _, err := Long(ctx, lo); err != context.Canceled {
		t.Errorf("Long with a cancelled context: %v, want context.Canceled", err)
	}
}

// The FLOP count is the reference's formula: for its tiny shape it prints
// train_gflop_per_step 18.233.
func TestBenchFlops(t *testing.T) {
	if got := Presets["tiny"].FlopsPerStep() / 1e9; math.Abs(got-18.232639488) > 1e-9 {
		t.Errorf("tiny: %.9f GFLOP per step", got)
	}
}
