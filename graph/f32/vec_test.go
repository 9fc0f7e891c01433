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
