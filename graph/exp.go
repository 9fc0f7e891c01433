package graph

import (
	"math"
	"unsafe"
)

// Exp32 returns e^x in float32 arithmetic, within 2 ulp of the correctly
// rounded result (TestExp32Accuracy). It is Cephes' expf: x = n·ln 2 + r with
// |r| ≤ ln 2 / 2, a degree-7 polynomial for e^r, and n added to the exponent.
// The softmax and cross-entropy rows of float32 graphs spend most of their
// time in exponentials, where math.Exp's float64 path costs 2–3× more.
func Exp32(x float32) float32 {
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

// expT returns e^x with Exp32 for float32 and math.Exp for float64, so that
// float64 graphs (and the finite-difference checks run on them) keep full
// precision.
func expT[T float32 | float64](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(Exp32(float32(x)))
	}
	return T(math.Exp(float64(x)))
}
