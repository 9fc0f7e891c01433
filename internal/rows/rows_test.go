package rows

import (
	"math"
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
