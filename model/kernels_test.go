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

// attend's weights are a softmax over the keys it does not skip: the
// context equals a float64 softmax's to float32 rounding, and a NaN score
// (here of one key only) makes the whole context NaN.
func TestAttendSoftmax(t *testing.T) {
	const n, dh, stride = 5, 3, 4
	keys := []float32{1, 0, 2, 9, -1, 1, 0, 9, 0.5, 0.5, 0.5, 9, 3, -2, 1, 9, 0, 0, -1, 9}
	vals := []float32{1, 2, 3, 9, 4, 5, 6, 9, 7, 8, 9, 9, -1, -2, -3, 9, 0, 1, 0, 9}
	q := []float32{0.3, -0.2, 0.7}
	skip := []bool{false, false, true, false, false}
	w, out := make([]float32, n), make([]float32, dh)
	attend(q, keys, vals, n, stride, dh, skip, 0.5, w, out)
	var e [n]float64
	var sum float64
	for j := range n {
		if skip[j] {
			continue
		}
		var s float64
		for i := range dh {
			s += float64(q[i]) * float64(keys[j*stride+i])
		}
		e[j] = math.Exp(0.5 * s)
		sum += e[j]
	}
	for i := range dh {
		var want float64
		for j := range n {
			want += e[j] / sum * float64(vals[j*stride+i])
		}
		if math.Abs(float64(out[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("context[%d] = %v, want %v", i, out[i], want)
		}
	}
	keys[3*stride+1] = float32(math.NaN())
	attend(q, keys, vals, n, stride, dh, skip, 0.5, w, out)
	for i, v := range out {
		if !math.IsNaN(float64(v)) {
			t.Errorf("with a NaN score, context[%d] = %v, want NaN", i, v)
		}
	}
}
