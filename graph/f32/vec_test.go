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
