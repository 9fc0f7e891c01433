package model

import (
	"math"
	"testing"
)

// The branch-free float32 ReLU keeps positive values and +Inf and makes
// everything else +0 (−0, negative values, −Inf), as the graph's ReLU
// does; float64 keeps its loop.
func TestActivateReLU(t *testing.T) {
	in := []float32{1.5, -2, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40, 3e38}
	want := []float32{1.5, 0, 0, 0, float32(math.Inf(1)), 0, 1e-40, 0, 3e38}
	x := append([]float32(nil), in...)
	activate("relu", x)
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
			t.Errorf("relu(%v) = %v, want %v", in[i], x[i], want[i])
		}
	}
	x64 := []float64{1.5, -2, 0}
	activate("relu", x64)
	if x64[0] != 1.5 || x64[1] != 0 || x64[2] != 0 {
		t.Errorf("float64 relu: %v", x64)
	}
}
