package model

import (
	"math"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/f32"
	"github.com/gotransformer/transformer/internal/rows"
)

// Plain-Go numeric kernels for the graph-free decoder (stepper.go), in the
// model's own float type. Matrix products go to the BLAS the graphs use
// (graph/f32's assembly kernel in the pure-Go build, OpenBLAS with the
// openblas build tag).

// float is the element type of a model's weights.
type float interface{ ~float32 | ~float64 }

// gemm computes c = a·b + beta·c for row-major a [m, k], b [k, n] and c
// [m, n].
func gemm[T float](m, n, k int, a []T, b []T, beta T, c []T) {
	switch a := any(a).(type) {
	case []float32:
		G.WhichBLAS().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, any(b).([]float32), n, float32(beta), any(c).([]float32), n)
	case []float64:
		G.WhichBLAS().Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, any(b).([]float64), n, float64(beta), any(c).([]float64), n)
	}
}

// linear computes y = x·w + bias for x [rows, in], w [in, out], bias [out]
// (nil: none).
func linear[T float](rows, in, out int, x, w, bias, y []T) {
	if bias != nil {
		for r := 0; r < rows; r++ {
			copy(y[r*out:(r+1)*out], bias)
		}
		gemm(rows, out, in, x, w, 1, y)
		return
	}
	gemm(rows, out, in, x, w, 0, y)
}

// layerNorm writes the layer norm of each row of x [rows, d] into y (which
// may be x) with the fused graph op's own row kernel (internal/rows), so
// that both accumulate in float64 alike.
func layerNorm[T float](n, d int, x, gamma, beta []T, eps float64, y []T) {
	rows.LayerNorm(x, gamma, beta, y, d, 0, n, eps)
}

// activate applies the named activation (layers.Activations) in place.
func activate[T float](name string, x []T) {
	switch name {
	case "relu":
		if x32, ok := any(x).([]float32); ok {
			// The graph's ReLU: without branches (the signs are random,
			// and a branch on each would mispredict every second
			// element), a vector at a time.
			f32.ReLU(x32, x32)
			return
		}
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case "gelu":
		for i, v := range x {
			x[i] = T(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
		}
	case "gelu_tanh":
		c := math.Sqrt(2 / math.Pi)
		for i, v := range x {
			f := float64(v)
			x[i] = T(0.5 * f * (1 + math.Tanh(c*(f+0.044715*f*f*f))))
		}
	}
}

// attend computes one query's attention over n keys and values, which lie
// at keys[j·stride:] and vals[j·stride:] (dh values each); skip[j] (nil:
// none) leaves key j out. w is scratch of at least n values; the result is
// written to out [dh].
func attend[T float](q, keys, vals []T, n, stride, dh int, skip []bool, scale T, w, out []T) {
	// float32 dot products and weighted sums run in vector registers, all
	// keys in one call (f32.Dots, f32.AxpyRows); float64 keeps the plain
	// loops.
	if q32, ok := any(q).([]float32); ok {
		if n > 0 {
			f32.Dots(q32[:dh], any(keys).([]float32), stride, any(w[:n]).([]float32))
		}
	} else {
		for j := range n {
			var s T
			kj := keys[j*stride : j*stride+dh]
			for i, v := range q[:dh] {
				s += v * kj[i]
			}
			w[j] = s
		}
	}
	weigh(vals, n, stride, dh, skip, scale, w, out)
}

// attendT is attend with the keys of the head transposed: key j's element
// i at keys[i·kstride + j], kstride at least n and, for float32, a
// multiple of 16 that w holds (rows of whole vectors, the columns past n
// ignored); the values lie at vals[j·vstride:]. The scores are then dh
// multiply-adds of whole rows (f32.AxpyRows) instead of a horizontal sum
// per key; float64 adds the same products in the same order as attend.
func attendT[T float](q, keys, vals []T, n, kstride, vstride, dh int, skip []bool, scale T, w, out []T) {
	if q32, ok := any(q).([]float32); ok {
		if n > 0 {
			w32 := any(w[:kstride]).([]float32)
			clear(w32)
			f32.AxpyRows(q32[:dh], any(keys).([]float32), kstride, w32)
		}
	} else {
		for j := range n {
			var s T
			for i, v := range q[:dh] {
				s += v * keys[i*kstride+j]
			}
			w[j] = s
		}
	}
	weigh(vals, n, vstride, dh, skip, scale, w, out)
}

// weigh turns the scores w[:n] into attention weights (scaled, skipped
// keys masked, softmax) and writes the weighted sum of the values at
// vals[j·stride:] (dh each) to out.
func weigh[T float](vals []T, n, stride, dh int, skip []bool, scale T, w, out []T) {
	best := T(math.Inf(-1))
	for j := 0; j < n; j++ {
		if skip != nil && skip[j] {
			continue
		}
		s := w[j] * scale
		w[j] = s
		// Not max(best, s): its rules for NaN and ±0 cost branches on
		// every score. A NaN score makes every weight NaN either way, and
		// a shift of −0 for +0 changes no exponential.
		if s > best {
			best = s
		}
	}
	// Skipped keys get the fused op's mask value, whose exponential is 0;
	// the exponentials and their sum come from the softmax rows' kernel
	// (internal/rows), as in the fused op.
	for j := 0; j < n; j++ {
		if skip != nil && skip[j] {
			w[j] = T(graph.MaskValue) // as the fused op's additive mask
		}
	}
	inv := 1 / rows.ExpShift(w[:n], w[:n], best)
	clear(out[:dh])
	for j := 0; j < n; {
		// Keys of weight 0 add nothing: each run of others is one call.
		for j < n && w[j] == 0 {
			j++
		}
		start := j
		for ; j < n && w[j] != 0; j++ {
			w[j] = T(float64(w[j]) * inv)
		}
		if start == j {
			break
		}
		if _, vec := any(w).([]float32); vec {
			f32.AxpyRows(any(w[start:j]).([]float32), any(vals[start*stride:]).([]float32), stride, any(out[:dh]).([]float32))
			continue
		}
		for k := start; k < j; k++ {
			p, vk := w[k], vals[k*stride:k*stride+dh]
			for i := range out[:dh] {
				out[i] += p * vk[i]
			}
		}
	}
}

// addInto adds b to a element by element.
func addInto[T float](a, b []T) {
	for i := range a {
		a[i] += b[i]
	}
}

// transpose returns the [cols, rows] transpose of the row-major x [rows, cols].
func transpose[T float | uint16](x []T, rows, cols int) []T {
	t := make([]T, len(x))
	for r := 0; r < rows; r++ {
		for c, v := range x[r*cols : (r+1)*cols] {
			t[c*rows+r] = v
		}
	}
	return t
}
