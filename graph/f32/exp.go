package f32

import (
	"math"
	"sync"
)

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

// ExpSum8 returns the eight partial float64 sums of the values
// ExpShift(dst, src, shift) writes, without storing them: e^(src[i] −
// shift) is added to sums[i mod 8] for i below len(src) rounded down to a
// multiple of 8, and to sums[0] after that, each sum in increasing i. Their
// total is the normaliser of a log-softmax over a vocabulary.
func ExpSum8(src []float32, shift float32) (sums [8]float64) {
	add := func(i int, e float32) {
		if i < len(src)&^7 {
			sums[i%8] += float64(e)
		} else {
			sums[0] += float64(e)
		}
	}
	i := 0
	if k := active.Load(); k != nil && k.expSum8 != nil {
		i = len(src) &^ 15
		if i > 0 {
			sums = k.expSum8(&src[0], i, shift)
		}
	} else if k != nil {
		// ExpShift's vector loop, a chunk of whole vectors at a time.
		vec := len(src) / k.lanes * k.lanes
		buf := chunkPool.Get().(*[256]float32)
		for i < vec {
			c := min(len(buf), vec-i)
			ExpShift(buf[:c], src[i:i+c], shift)
			for j, e := range buf[:c] {
				add(i+j, e)
			}
			i += c
		}
		chunkPool.Put(buf)
	}
	// The rest as ExpShift computes what its vector loop leaves.
	for ; i < len(src); i++ {
		e := Exp(src[i] - shift)
		if src[i]-shift < -87.33654 {
			e = 0
		}
		add(i, e)
	}
	return sums
}

// chunkPool holds ExpSum8's scratch for kernels without its loop.
var chunkPool = sync.Pool{New: func() any { return new([256]float32) }}

// MaxNaN returns the largest element of x that is not a NaN (−Inf for
// none) and whether x holds a NaN: sixteen lanes at a time where the kernel
// in use has AVX-512.
func MaxNaN(x []float32) (m float32, nan bool) {
	m = float32(math.Inf(-1))
	i := 0
	if k := active.Load(); k != nil && k.maxNaN != nil {
		i = len(x) &^ 15
		if i > 0 {
			m, nan = k.maxNaN(&x[0], i)
		}
	}
	for _, v := range x[i:] {
		if v != v {
			nan = true
		} else if v > m {
			m = v
		}
	}
	return m, nan
}
