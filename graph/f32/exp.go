package f32

import "math"

// Exp returns e^x in float32 arithmetic, within 1 ulp of the correctly
// rounded result over the float32 range (TestExpAccuracy). It is Cephes'
// expf: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a polynomial for e^r, and n added
// to the exponent.
func Exp(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -103.972084:
		return 0
	case x < -87.33654: // the result is subnormal: rare, so take the slow path
		return float32(math.Exp(float64(x)))
	}
	z := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - z*c1 - z*c2
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	p = p*r*r + r + 1
	n := int32(z)
	if n > 127 { // e^x just below the overflow bound: scale in two steps
		return p * 2 * math.Float32frombits(uint32(n-1+127)<<23)
	}
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// ExpShift sets dst[i] = e^(src[i] − shift) and returns the sum of dst; dst
// may be src. It serves softmax rows, with shift their maximum: the
// differences should be at most 88, and results below e^−87.33654 (the
// smallest normal float32) are 0. It panics if dst is shorter than src.
func ExpShift(dst, src []float32, shift float32) float32 {
	dst = dst[:len(src)]
	var sum float32
	i := 0
	if k := active.Load(); k != nil && len(src) >= k.lanes {
		i = len(src) / k.lanes * k.lanes
		sum = k.exp(&dst[0], &src[0], i, shift)
	}
	for ; i < len(src); i++ {
		e := Exp(src[i] - shift)
		if src[i]-shift < -87.33654 {
			e = 0
		}
		dst[i] = e
		sum += e
	}
	return sum
}
