package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Stats and Normalize give the loop's bits with every kernel: for lengths
// around the sixteen lanes, rows of different offsets and scales, with
// NaNs and infinities, and Normalize in place as well.
func TestStatsAndNormalizeMatchLoop(t *testing.T) {
	type row struct{ x, gamma, beta []float32 }
	r := rand.New(rand.NewPCG(23, 23))
	var rowsIn []row
	for _, n := range []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 64, 127, 128, 129, 512, 1030} {
		for _, off := range []float32{0, 10, -1e4} {
			x := randSlice(r, n)
			for i := range x {
				x[i] = x[i]*3 + off
			}
			rowsIn = append(rowsIn, row{x, randSlice(r, n), randSlice(r, n)})
		}
		// Magnitudes from 1e-30 to 1e30: float64 sums of these round,
		// so a kernel that added in another order would show.
		wide := randSlice(r, n)
		for i := range wide {
			wide[i] *= float32(math.Pow(10, float64(r.IntN(61)-30)))
		}
		rowsIn = append(rowsIn, row{wide, randSlice(r, n), randSlice(r, n)})
		bad := randSlice(r, n)
		bad[r.IntN(n)] = float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)])
		rowsIn = append(rowsIn, row{bad, randSlice(r, n), randSlice(r, n)})
	}
	type result struct {
		mean, rstd float64
		y          []float32
	}
	compute := func() []result {
		var out []result
		for _, in := range rowsIn {
			mean, rstd := Stats(in.x, 1e-5)
			y := make([]float32, len(in.x))
			Normalize(in.x, in.gamma, in.beta, y, mean, rstd)
			inPlace := append([]float32(nil), in.x...)
			Normalize(inPlace, in.gamma, in.beta, inPlace, mean, rstd)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(inPlace[i]) {
					t.Fatalf("n=%d: Normalize in place differs at %d", len(in.x), i)
				}
			}
			out = append(out, result{mean, rstd, y})
		}
		return out
	}
	defer active.Store(active.Load())
	UseKernel(Pure)
	want := compute()
	for i, in := range rowsIn { // the loop against the definition
		var s float64
		for _, v := range in.x {
			s += float64(v)
		}
		if m := want[i].mean; !math.IsNaN(m) && !math.IsInf(m, 0) && !(math.Abs(m-s/float64(len(in.x))) <= 1e-12*math.Abs(m)+1e-12) {
			t.Fatalf("n=%d: mean %v, a plain sum gives %v", len(in.x), m, s/float64(len(in.x)))
		}
		for j, v := range in.x {
			w := float32(float32((float64(v)-want[i].mean)*want[i].rstd)*in.gamma[j]) + in.beta[j]
			if math.Float32bits(w) != math.Float32bits(want[i].y[j]) {
				t.Fatalf("n=%d: Normalize[%d] = %v, want %v", len(in.x), j, want[i].y[j], w)
			}
		}
	}
	eachKernel(t, func(t *testing.T) {
		got := compute()
		for i := range got {
			g, w := got[i], want[i]
			if math.Float64bits(g.mean) != math.Float64bits(w.mean) || math.Float64bits(g.rstd) != math.Float64bits(w.rstd) {
				t.Fatalf("n=%d: Stats = %v, %v; the loop's %v, %v", len(rowsIn[i].x), g.mean, g.rstd, w.mean, w.rstd)
			}
			for j := range g.y {
				if math.Float32bits(g.y[j]) != math.Float32bits(w.y[j]) {
					t.Fatalf("n=%d: Normalize[%d] = %v, the loop's %v", len(rowsIn[i].x), j, g.y[j], w.y[j])
				}
			}
		}
	})
}

// Stats of an empty row is NaN, not a division by zero's panic.
func TestStatsEmpty(t *testing.T) {
	if m, s := Stats(nil, 1e-5); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Fatalf("Stats(nil) = %v, %v", m, s)
	}
}
