package graph

import (
	"math"
	"testing"
)

// ulps returns how many float32 values lie between got and want.
func ulps(got, want float32) int64 {
	a, b := int64(math.Float32bits(got)), int64(math.Float32bits(want))
	if a > b {
		return a - b
	}
	return b - a
}

func TestExp32Accuracy(t *testing.T) {
	worst, at := int64(0), float32(0)
	check := func(x float32) {
		want := float32(math.Exp(float64(x)))
		if u := ulps(Exp32(x), want); u > worst {
			worst, at = u, x
		}
	}
	// Every 61st float32 in [-87.3, 88.7], plus the ends of each range.
	for b := math.Float32bits(0); b <= math.Float32bits(88.7); b += 61 {
		x := math.Float32frombits(b)
		check(x)
		check(-x)
	}
	for _, x := range []float32{-87.33, -87.4, -100, -103.9, 88.72, 1e-30, -1e-30, 0.5, -0.5} {
		check(x)
	}
	if worst > 2 {
		t.Fatalf("Exp32 is %d ulp from the correctly rounded e^x at x = %g", worst, at)
	}
	t.Logf("worst error %d ulp (at x = %g)", worst, at)
}

func TestExp32Special(t *testing.T) {
	if v := Exp32(float32(math.NaN())); v == v {
		t.Errorf("Exp32(NaN) = %v", v)
	}
	if v := Exp32(float32(math.Inf(1))); !math.IsInf(float64(v), 1) {
		t.Errorf("Exp32(+Inf) = %v", v)
	}
	for _, x := range []float32{float32(math.Inf(-1)), -1e9, -104} {
		if v := Exp32(x); v != 0 {
			t.Errorf("Exp32(%g) = %v, want 0", x, v)
		}
	}
	if v := Exp32(89); !math.IsInf(float64(v), 1) {
		t.Errorf("Exp32(89) = %v, want +Inf", v)
	}
	if v, want := Exp32(0), float32(1); v != want {
		t.Errorf("Exp32(0) = %v", v)
	}
}

func BenchmarkExp32(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = -20 * float32(i) / float32(len(x))
	}
	b.Run("Exp32", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for _, v := range x {
				s += Exp32(v)
			}
		}
		sink = float64(s)
	})
	b.Run("math.Exp", func(b *testing.B) {
		var s float64
		for b.Loop() {
			for _, v := range x {
				s += math.Exp(float64(v))
			}
		}
		sink = s
	})
}

var sink float64
