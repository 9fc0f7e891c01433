package graph

import (
	"math"

	"github.com/gotransformer/transformer/graph/f32"
)

// expShift sets dst[i] = e^(src[i] − shift) and returns Σ dst: with
// f32.ExpShift's vector kernel for float32 rows, math.Exp for float64.
func expShift[T float32 | float64](dst, src []T, shift T) float64 {
	if d, ok := any(dst).([]float32); ok {
		return float64(f32.ExpShift(d, any(src).([]float32), float32(shift)))
	}
	var sum float64
	for i, v := range src {
		e := math.Exp(float64(v - shift))
		dst[i] = T(e)
		sum += e
	}
	return sum
}
