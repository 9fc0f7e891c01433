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
// float64 (the biased variance, as PyTorch's nn.LayerNorm). A float32 row
// goes to f32.Stats (sixteen partial sums, in vector registers where a
// kernel runs); in a float64 row each sum runs in four independent partial
// sums, added at the end: one running sum would wait on each addition's
// latency.
func Stats[T Float](x []T, eps float64) (mean, rstd float64) {
	if x32, ok := any(x).([]float32); ok {
		return f32.Stats(x32, eps)
	}
	n := len(x) &^ 3
	var m0, m1, m2, m3 float64
	for i := 0; i < n; i += 4 {
		m0 += float64(x[i])
		m1 += float64(x[i+1])
		m2 += float64(x[i+2])
		m3 += float64(x[i+3])
	}
	for _, v := range x[n:] {
		m0 += float64(v)
	}
	mean = ((m0 + m1) + (m2 + m3)) / float64(len(x))
	var s0, s1, s2, s3 float64
	for i := 0; i < n; i += 4 {
		c0, c1, c2, c3 := float64(x[i])-mean, float64(x[i+1])-mean, float64(x[i+2])-mean, float64(x[i+3])-mean
		s0 += c0 * c0
		s1 += c1 * c1
		s2 += c2 * c2
		s3 += c3 * c3
	}
	for _, v := range x[n:] {
		c := float64(v) - mean
		s0 += c * c
	}
	sq := (s0 + s1) + (s2 + s3)
	return mean, 1 / math.Sqrt(sq/float64(len(x))+eps)
}

// LayerNorm writes (x − mean)·rstd·gamma + beta of rows lo..hi−1 of x
// [rows, d] into y (which may be x); float32 rows with f32.Normalize.
func LayerNorm[T Float](x, gamma, beta, y []T, d, lo, hi int, eps float64) {
	if x32, ok := any(x).([]float32); ok {
		g, b, y32 := any(gamma).([]float32), any(beta).([]float32), any(y).([]float32)
		for r := lo; r < hi; r++ {
			xr := x32[r*d : (r+1)*d]
			mean, rstd := f32.Stats(xr, eps)
			f32.Normalize(xr, g, b, y32[r*d:(r+1)*d], mean, rstd)
		}
		return
	}
	for r := lo; r < hi; r++ {
		xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		mean, rstd := Stats(xr, eps)
		for i, v := range xr {
			yr[i] = T((float64(v)-mean)*rstd)*gamma[i] + beta[i]
		}
	}
}
