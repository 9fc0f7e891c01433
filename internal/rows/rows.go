// Package rows holds the row kernels that the fused graph ops (package
// graph) and the graph-free decoder (package model) share, so that both
// compute a layer norm or a softmax row with the same code and rounding.
// It is internal: its generic functions are not part of the exported API.
package rows

import (
	"math"

	"github.com/gotransformer/transformer/graph/f32"
)

// Float is the element type of a model's tensors.
type Float interface{ ~float32 | ~float64 }

// ExpShift sets dst[i] = e^(src[i] − shift) and returns Σ dst: with
// f32.ExpShift's vector kernel for float32 rows, math.Exp for float64.
func ExpShift[T Float](dst, src []T, shift T) float64 {
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

// Stats returns the mean and 1/√(var + eps) of a row, accumulated in
// float64 (the biased variance, as PyTorch's nn.LayerNorm).
func Stats[T Float](x []T, eps float64) (mean, rstd float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var sq float64
	for _, v := range x {
		c := float64(v) - mean
		sq += c * c
	}
	return mean, 1 / math.Sqrt(sq/float64(len(x))+eps)
}

// LayerNorm writes (x − mean)·rstd·gamma + beta of rows lo..hi−1 of x
// [rows, d] into y (which may be x).
func LayerNorm[T Float](x, gamma, beta, y []T, d, lo, hi int, eps float64) {
	for r := lo; r < hi; r++ {
		xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		mean, rstd := Stats(xr, eps)
		for i, v := range xr {
			yr[i] = T((float64(v)-mean)*rstd)*gamma[i] + beta[i]
		}
	}
}
