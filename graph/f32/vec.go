package f32

import "math"

// Dot returns Σ x[i]·y[i] over the elements of x (y at least as long), in
// vector registers where a kernel is in use: the sums are grouped by lane,
// so they may differ from a loop's in the last bits.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	i := 0
	if k := active.Load(); k != nil && len(x) >= k.lanes {
		i = len(x) / k.lanes * k.lanes
		s = k.dot(&x[0], &y[0], i)
	}
	for ; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// Axpy adds alpha·x[i] to y[i] for the elements of x (y at least as long),
// with fused multiply-adds where a kernel is in use.
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	if k := active.Load(); k != nil && len(x) >= k.lanes {
		i = len(x) / k.lanes * k.lanes
		k.axpy(alpha, &x[0], &y[0], i)
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

// Dots sets out[j] to Dot(x, y[j·stride : j·stride+len(x)]) for every
// j < len(out), bit for bit, in one call: the scores of a query against
// keys stride apart. It panics if stride is negative or y too short.
func Dots(x, y []float32, stride int, out []float32) {
	if stride < 0 {
		panic("f32: Dots with a negative stride")
	}
	if len(out) == 0 {
		return
	}
	if len(x) == 0 {
		clear(out)
		return
	}
	_ = y[(len(out)-1)*stride+len(x)-1]
	i := 0
	if k := active.Load(); k != nil && k.dots != nil && len(x) >= k.lanes {
		i = len(x) / k.lanes * k.lanes
		k.dots(&x[0], &y[0], stride, i, len(out), &out[0])
	} else {
		clear(out)
	}
	if i == len(x) {
		return
	}
	for j := range out {
		row := y[j*stride : j*stride+len(x)]
		s := out[j]
		for t := i; t < len(x); t++ {
			s += x[t] * row[t]
		}
		out[j] = s
	}
}

// AxpyRows runs Axpy(a[j], x[j·stride : j·stride+len(y)], y) for j = 0,
// 1, … len(a)−1 in turn, bit for bit, in one call: the weighted sum of
// values stride apart, with y held in registers across the rows. x must
// not overlap y. It panics if stride is negative or x too short.
func AxpyRows(a, x []float32, stride int, y []float32) {
	if stride < 0 {
		panic("f32: AxpyRows with a negative stride")
	}
	if len(a) == 0 || len(y) == 0 {
		return
	}
	_ = x[(len(a)-1)*stride+len(y)-1]
	i := 0
	if k := active.Load(); k != nil && k.axpyRows != nil && len(y) >= k.lanes {
		i = len(y) / k.lanes * k.lanes
		k.axpyRows(&a[0], &x[0], stride, i, len(a), &y[0])
	}
	if i == len(y) {
		return
	}
	for j, alpha := range a {
		row := x[j*stride : j*stride+len(y)]
		for t := i; t < len(y); t++ {
			y[t] += alpha * row[t]
		}
	}
}

// ReLU sets dst[i] to src[i] where src[i] > 0, and to +0 elsewhere, for
// every i < len(src) (dst may be src). NaNs are kept or zeroed by their
// sign bit, as a rule on bits has it: a value is kept where its bits, read
// as a signed integer, are above 0. It panics if dst is shorter than src.
func ReLU(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	i := 0
	if k := active.Load(); k != nil && k.relu != nil && len(src) >= k.lanes {
		i = len(src) / k.lanes * k.lanes
		k.relu(&dst[0], &src[0], i)
	}
	for ; i < len(src); i++ {
		b := math.Float32bits(src[i])
		dst[i] = math.Float32frombits(b & uint32((-int64(int32(b)))>>63))
	}
}

// FirstAbove returns the index of the first x[i] > t, or len(x) where there
// is none; a NaN is above nothing, and nothing is above a NaN t. Where a
// kernel is in use it compares a vector of x at a time: the search for the
// few scores that can enter a beam's best n.
func FirstAbove(x []float32, t float32) int {
	i := 0
	if k := active.Load(); k != nil && k.firstAbove != nil && len(x) >= k.lanes {
		n := len(x) / k.lanes * k.lanes
		if j := k.firstAbove(&x[0], n, t); j < n {
			return j
		}
		i = n
	}
	for ; i < len(x); i++ {
		if x[i] > t {
			return i
		}
	}
	return len(x)
}
