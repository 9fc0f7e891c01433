package f32

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
