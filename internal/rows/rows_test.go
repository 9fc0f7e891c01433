package rows

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestLayerNormAndExpShift(t *testing.T) {
	x := []float64{1, 2, 3, 4, -1, 0.5, 7, 2}
	gamma, beta := []float64{1, 2, 0.5, 1}, []float64{0, 1, -1, 0.25}
	y := make([]float64, len(x))
	LayerNorm(x, gamma, beta, y, 4, 0, 2, 1e-5)
	for r := 0; r < 2; r++ {
		row := x[r*4 : r*4+4]
		var mean, v float64
		for _, a := range row {
			mean += a / 4
		}
		for _, a := range row {
			v += (a - mean) * (a - mean) / 4
		}
		for i, a := range row {
			want := (a-mean)/math.Sqrt(v+1e-5)*gamma[i] + beta[i]
			if math.Abs(y[r*4+i]-want) > 1e-12 {
				t.Errorf("row %d col %d: %v, want %v", r, i, y[r*4+i], want)
			}
		}
	}
	x32 := []float32{0.5, -2, 3, -1e9}
	e32 := make([]float32, 4)
	sum32 := ExpShift(e32, x32, 3)
	e64 := make([]float64, 4)
	sum64 := ExpShift(e64, []float64{0.5, -2, 3, -1e9}, 3)
	for i := range e64 {
		if math.Abs(float64(e32[i])-e64[i]) > 2e-7*e64[i]+1e-30 {
			t.Errorf("exp %d: float32 %v, float64 %v", i, e32[i], e64[i])
		}
	}
	if e64[3] != 0 || math.Abs(sum32-sum64) > 1e-6*sum64 {
		t.Errorf("masked value gives %v; sums %v, %v", e64[3], sum32, sum64)
	}
}

// Stats, which sums in sixteen partial sums (float32) or four (float64), gives the mean and 1/√(var+eps)
// of exact arithmetic (math/big) to float64 rounding, for lengths around
// the four lanes; a NaN or an infinity in the row makes both NaN.
func TestStatsMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 127, 128, 129, 1030} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64()*3 + 10)
		}
		exact := new(big.Float).SetPrec(256)
		for _, v := range x {
			exact.Add(exact, new(big.Float).SetPrec(256).SetFloat64(float64(v)))
		}
		exact.Quo(exact, new(big.Float).SetPrec(256).SetInt64(int64(n)))
		wantMean, _ := exact.Float64()
		sq := new(big.Float).SetPrec(256)
		for _, v := range x {
			c := new(big.Float).SetPrec(256).SetFloat64(float64(v))
			c.Sub(c, exact)
			sq.Add(sq, c.Mul(c, c))
		}
		sq.Quo(sq, new(big.Float).SetPrec(256).SetInt64(int64(n)))
		v, _ := sq.Float64()
		wantRstd := 1 / math.Sqrt(v+1e-5)
		mean, rstd := Stats(x, 1e-5)
		if math.Abs(mean-wantMean) > 1e-14*math.Abs(wantMean) || math.Abs(rstd-wantRstd) > 1e-12*wantRstd {
			t.Errorf("n=%d: Stats = %v, %v; exact %v, %v", n, mean, rstd, wantMean, wantRstd)
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
			y := append([]float32(nil), x...)
			y[n/2] = bad
			if m, s := Stats(y, 1e-5); !math.IsNaN(s) || !math.IsNaN(m) && !math.IsInf(m, 0) {
				t.Errorf("n=%d with %v: Stats = %v, %v, want NaN", n, bad, m, s)
			}
		}
	}
}
