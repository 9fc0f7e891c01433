package f32

import (
	"math"
	"math/rand/v2"
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

func TestExpAccuracy(t *testing.T) {
	worst, at := int64(0), float32(0)
	check := func(x float32) {
		want := float32(math.Exp(float64(x)))
		if u := ulps(Exp(x), want); u > worst {
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
		t.Fatalf("Exp is %d ulp from the correctly rounded e^x at x = %g", worst, at)
	}
	t.Logf("worst error %d ulp (at x = %g)", worst, at)
}

func TestExpSpecial(t *testing.T) {
	if v := Exp(float32(math.NaN())); v == v {
		t.Errorf("Exp(NaN) = %v", v)
	}
	if v := Exp(float32(math.Inf(1))); !math.IsInf(float64(v), 1) {
		t.Errorf("Exp(+Inf) = %v", v)
	}
	for _, x := range []float32{float32(math.Inf(-1)), -1e9, -104} {
		if v := Exp(x); v != 0 {
			t.Errorf("Exp(%g) = %v, want 0", x, v)
		}
	}
	if v := Exp(89); !math.IsInf(float64(v), 1) {
		t.Errorf("Exp(89) = %v, want +Inf", v)
	}
	if v, want := Exp(0), float32(1); v != want {
		t.Errorf("Exp(0) = %v", v)
	}
}

func BenchmarkExp(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = -20 * float32(i) / float32(len(x))
	}
	b.Run("Exp", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for _, v := range x {
				s += Exp(v)
			}
		}
		sink = float64(s)
	})
	b.Run("ExpShift", func(b *testing.B) {
		eachKernelB(b, func(b *testing.B) {
			y := make([]float32, len(x))
			var s float32
			for b.Loop() {
				s += ExpShift(y, x, 0)
			}
			sink = float64(s)
		})
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

func TestExpShift(t *testing.T) { eachKernel(t, expShift) }

func expShift(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 23, 32, 40, 10007} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(r.NormFloat64() * 10)
			if i%11 == 3 {
				src[i] = -1e9 // a masked score
			}
			if i%13 == 5 {
				src[i] = -80 - float32(i%17) // around the underflow bound
			}
		}
		const shift = 3.5
		dst := make([]float32, n)
		sum := ExpShift(dst, src, shift)
		var want float64
		for i, v := range src {
			d := v - shift
			w := float32(math.Exp(float64(d)))
			if d < -87.33654 {
				w = 0
			}
			want += float64(w)
			if u := ulps(dst[i], w); u > 2 {
				t.Fatalf("n=%d: e^(%g) = %g, want %g (%d ulp)", n, d, dst[i], w, u)
			}
		}
		if math.Abs(float64(sum)-want) > 1e-6*want {
			t.Fatalf("n=%d: sum %g, want %g", n, sum, want)
		}
		// In place.
		cp := append([]float32(nil), src...)
		ExpShift(cp, cp, shift)
		for i := range cp {
			if cp[i] != dst[i] {
				t.Fatalf("n=%d: in-place result differs at %d", n, i)
			}
		}
	}
}

// TestExpShiftKernelsAgree checks that every kernel's vector exponential
// gives the same bits (they do the same operations, only wider), so that a
// softmax does not change with the kernel in use.
func TestExpShiftKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(r.NormFloat64() * 30)
	}
	var first []float32
	eachKernel(t, func(t *testing.T) {
		dst := make([]float32, len(src))
		ExpShift(dst, src, 1.5)
		if first == nil {
			first = dst
			return
		}
		for i := range dst {
			if dst[i] != first[i] {
				t.Fatalf("e^(%g) = %g, %g with the first kernel", src[i]-1.5, dst[i], first[i])
			}
		}
	})
}

// ExpSum8 is ExpShift followed by eight partial float64 sums, bit for bit,
// and MaxNaN is a loop's maximum and NaN check, with every kernel and
// without one: lengths around the lanes and the 64-value chunks, a
// vocabulary's 8000, rows with values far below the shift (exponentials
// of 0), infinities and NaNs.
func TestExpSum8AndMaxNaN(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || a != a && b != b }
	f := func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 129, 8000} {
			for trial := 0; trial < 4; trial++ {
				x := randSlice(r, n)
				for i := range x {
					x[i] *= 8
					if trial == 1 && r.IntN(10) == 0 {
						x[i] = -200
					}
				}
				if trial == 2 && n > 0 {
					x[r.IntN(n)] = float32(math.Inf(r.IntN(2)*2 - 1))
				}
				if trial == 3 && n > 0 {
					x[r.IntN(n)] = float32(math.NaN())
				}
				wantMax, wantNaN := float32(math.Inf(-1)), false
				for _, v := range x {
					if v != v {
						wantNaN = true
					} else if v > wantMax {
						wantMax = v
					}
				}
				m, nan := MaxNaN(x)
				if nan != wantNaN || !wantNaN && m != wantMax {
					t.Fatalf("n=%d trial %d: MaxNaN = %v, %v; want %v, %v", n, trial, m, nan, wantMax, wantNaN)
				}
				shift := wantMax
				if wantNaN || math.IsInf(float64(shift), 0) {
					shift = 3
				}
				e := make([]float32, n)
				ExpShift(e, x, shift)
				var want [8]float64
				for i, v := range e {
					if i < n&^7 {
						want[i%8] += float64(v)
					} else {
						want[0] += float64(v)
					}
				}
				got := ExpSum8(x, shift)
				for j := range got {
					if !same(got[j], want[j]) {
						t.Fatalf("n=%d trial %d: sums[%d] = %v, want %v", n, trial, j, got[j], want[j])
					}
				}
			}
		}
	}
	eachKernel(t, f)
	defer active.Store(active.Load())
	UseKernel(Pure)
	t.Run(Pure, f)
}
