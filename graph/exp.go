package graph

import (
	"math"
	"unsafe"

	"github.com/gotransformer/transformer/graph/f32"
)

// expT returns e^x with f32.Exp for float32 and math.Exp for float64, so that
// float64 graphs (and the finite-difference checks run on them) keep full
// precision.
func expT[T float32 | float64](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(f32.Exp(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

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
