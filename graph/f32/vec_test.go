package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotAxpy checks Dot and Axpy with every kernel against float64 loops,
// for lengths around the vector widths.
func TestDotAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	f := func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 100, 1000} {
			x, y := randSlice(r, n), randSlice(r, n+3)
			var want float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
			}
			if got := float64(Dot(x, y)); math.Abs(got-want) > 1e-5*math.Sqrt(float64(n)+1)*(1+math.Abs(want)) {
				t.Fatalf("n=%d: Dot = %v, want %v", n, got, want)
			}
			y0 := append([]float32(nil), y...)
			Axpy(-0.75, x, y)
			for i := range y {
				w := y0[i]
				if i < n {
					w = float32(float64(y0[i]) + -0.75*float64(x[i]))
				}
				if math.Abs(float64(y[i]-w)) > 1e-6*(1+math.Abs(float64(w))) {
					t.Fatalf("n=%d: Axpy y[%d] = %v, want %v", n, i, y[i], w)
				}
			}
		}
	}
	eachKernel(t, f)
	defer active.Store(active.Load())
	UseKernel(Pure)
	t.Run(Pure, f)
}

// Dots equals Dot row by row and AxpyRows equals Axpy row after row, bit
// for bit, with every kernel and without one, for lengths around the
// vector widths and the 64 values the kernels hold in registers, any
// number of rows, and strides wider than a row.
func TestDotsAxpyRowsMatchOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	f := func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 24, 32, 40, 48, 63, 64, 65, 80, 96, 128, 130} {
			for _, m := range []int{0, 1, 2, 3, 7} {
				stride := n + r.IntN(5)
				x := randSlice(r, n)
				y := randSlice(r, m*stride+n)
				got, want := make([]float32, m), make([]float32, m)
				Dots(x, y, stride, got)
				for j := range want {
					want[j] = Dot(x, y[j*stride:j*stride+n])
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("n=%d m=%d stride %d: Dots[%d] = %v, Dot %v", n, m, stride, j, got[j], want[j])
					}
				}
				a := randSlice(r, m)
				acc, one := randSlice(r, n), make([]float32, n)
				copy(one, acc)
				AxpyRows(a, y, stride, acc)
				for j, alpha := range a {
					Axpy(alpha, y[j*stride:j*stride+n], one)
				}
				for i := range acc {
					if math.Float32bits(acc[i]) != math.Float32bits(one[i]) {
						t.Fatalf("n=%d m=%d stride %d: AxpyRows y[%d] = %v, Axpy after Axpy %v", n, m, stride, i, acc[i], one[i])
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

// A negative stride panics instead of reading before the slice.
func TestDotsAxpyRowsNegativeStride(t *testing.T) {
	for name, f := range map[string]func(){
		"Dots":     func() { Dots(make([]float32, 16), make([]float32, 32), -1, make([]float32, 2)) },
		"AxpyRows": func() { AxpyRows(make([]float32, 2), make([]float32, 32), -1, make([]float32, 16)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with stride −1 did not panic", name)
				}
			}()
			f()
		}()
	}
}

// FirstAbove finds what a loop finds, with every kernel and without one:
// for each length around the vector widths, each threshold (a NaN, ±Inf,
// ±0 and values among x) and x holding NaNs, infinities and zeros of both
// signs, with the first element above the threshold at every position.
func TestFirstAbove(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	loop := func(x []float32, th float32) int {
		for i, v := range x {
			if v > th {
				return i
			}
		}
		return len(x)
	}
	f := func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 100, 1000} {
			x := randSlice(r, n)
			for i := range x {
				switch r.IntN(8) {
				case 0:
					x[i] = nan
				case 1:
					x[i] = float32(math.Copysign(0, float64(r.IntN(2)*2-1)))
				case 2:
					x[i] = -inf
				}
			}
			ths := []float32{nan, inf, -inf, 0, float32(math.Copysign(0, -1)), 2, -2}
			for k := 0; k < 5 && n > 0; k++ {
				ths = append(ths, x[r.IntN(n)])
			}
			for _, th := range ths {
				if got, want := FirstAbove(x, th), loop(x, th); got != want {
					t.Fatalf("n=%d t=%v: FirstAbove = %d, want %d", n, th, got, want)
				}
			}
			// The first element above 5 at each position in turn.
			for p := 0; p < n; p++ {
				y := make([]float32, n)
				copy(y, x)
				for i := range y {
					if y[i] > 4 {
						y[i] = 4
					}
				}
				y[p] = 5 + float32(p)
				if got := FirstAbove(y, 4.5); got != p {
					t.Fatalf("n=%d: FirstAbove = %d, want %d", n, got, p)
				}
			}
		}
	}
	eachKernel(t, f)
	defer active.Store(active.Load())
	UseKernel(Pure)
	t.Run(Pure, f)
}

// ReLU keeps what is above 0 and writes +0 elsewhere, bit for bit as the
// scalar rule on bits, with every kernel and without one: for each length
// around the vector widths, in place and not, with NaNs and zeros of both
// signs, infinities and subnormals; elements past len(src) stay untouched.
func TestReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 19))
	specials := []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0, 0x80000000, 0x7f800000, 0xff800000, 1, 0x80000001, 0x007fffff, 0x807fffff}
	want := func(v float32) float32 {
		if b := math.Float32bits(v); int32(b) > 0 {
			return v
		}
		return 0
	}
	f := func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 100, 1000} {
			x := randSlice(r, n)
			for i := range x {
				if r.IntN(3) == 0 {
					x[i] = math.Float32frombits(specials[r.IntN(len(specials))])
				}
			}
			dst := make([]float32, n+1)
			dst[n] = 7
			ReLU(dst, x)
			in := append([]float32(nil), x...)
			ReLU(in, in)
			for i, v := range x {
				w := math.Float32bits(want(v))
				if math.Float32bits(dst[i]) != w || math.Float32bits(in[i]) != w {
					t.Fatalf("n=%d: ReLU of %#x is %#x (in place %#x), want %#x", n, math.Float32bits(v), math.Float32bits(dst[i]), math.Float32bits(in[i]), w)
				}
			}
			if dst[n] != 7 {
				t.Fatalf("n=%d: ReLU wrote past len(src)", n)
			}
		}
	}
	eachKernel(t, f)
	defer active.Store(active.Load())
	UseKernel(Pure)
	t.Run(Pure, f)
}
