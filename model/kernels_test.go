package model

import (
	"math"
	"math/rand/v2"
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

// attendT, over the same keys transposed, gives attend's context: bit for
// bit in float64 (the same products in the same order), to float32
// rounding in float32 (the scores' sums are grouped otherwise), with
// skipped keys and a key count that is not a whole vector.
func TestAttendTransposedKeys(t *testing.T) {
	for _, n := range []int{1, 5, 16, 19, 33} {
		const dh, stride = 8, 11
		kstride := (n + 15) &^ 15
		r := rand.New(rand.NewPCG(uint64(n), 5))
		keys, vals, q := make([]float64, n*stride), make([]float64, n*stride), make([]float64, dh)
		for i := range keys {
			keys[i], vals[i] = r.NormFloat64(), r.NormFloat64()
		}
		for i := range q {
			q[i] = r.NormFloat64()
		}
		keysT := make([]float64, dh*kstride)
		for j := range n {
			for i := range dh {
				keysT[i*kstride+j] = keys[j*stride+i]
			}
		}
		skip := make([]bool, n)
		skip[n/2] = n > 1
		f32s := func(x []float64) []float32 {
			y := make([]float32, len(x))
			for i, v := range x {
				y[i] = float32(v)
			}
			return y
		}
		want64, got64 := make([]float64, dh), make([]float64, dh)
		attend(q, keys, vals, n, stride, dh, skip, 0.3, make([]float64, n), want64)
		attendT(q, keysT, vals, n, kstride, stride, dh, skip, 0.3, make([]float64, kstride), got64)
		want32, got32 := make([]float32, dh), make([]float32, dh)
		attend(f32s(q), f32s(keys), f32s(vals), n, stride, dh, skip, 0.3, make([]float32, n), want32)
		attendT(f32s(q), f32s(keysT), f32s(vals), n, kstride, stride, dh, skip, 0.3, make([]float32, kstride), got32)
		for i := range dh {
			if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
				t.Errorf("n=%d float64: context[%d] = %v, attend's %v", n, i, got64[i], want64[i])
			}
			if math.Abs(float64(got32[i]-want32[i])) > 1e-5*math.Max(1, math.Abs(float64(want32[i]))) {
				t.Errorf("n=%d float32: context[%d] = %v, attend's %v", n, i, got32[i], want32[i])
			}
		}
	}
}
