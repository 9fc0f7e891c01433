package f32

import "math"

// Stats returns the mean of x and 1/√(var + eps), the biased variance (as
// PyTorch's nn.LayerNorm), accumulated in float64. Each of the two sums
// runs in sixteen partial sums, element i in sum i mod 16 (a pair of
// AVX-512 registers of float64s), added in a fixed tree (sum j with sum
// j+8, then j+4, j+2 and j+1), and the elements past the last whole
// sixteen are added after it in turn. The kernel and the loop give the
// same bits.
func Stats(x []float32, eps float64) (mean, rstd float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	n := len(x) &^ 15
	k := active.Load()
	sum := func(mean float64, sq bool) float64 {
		if n == 0 {
			return 0
		}
		if k != nil && k.sums16 != nil {
			return k.sums16(&x[0], n, mean, sq)
		}
		var s [16]float64
		sums16(&s, x[:n], mean, sq)
		return tree16(&s)
	}
	total := sum(0, false)
	for _, v := range x[n:] {
		total += float64(v)
	}
	mean = total / float64(len(x))
	sq := sum(mean, true)
	for _, v := range x[n:] {
		c := float64(v) - mean
		sq += float64(c * c)
	}
	return mean, 1 / math.Sqrt(sq/float64(len(x))+eps)
}

// sums16 sets s[l] to the sum of the elements i ≡ l (mod 16) of x (a
// multiple of 16 long), or with sq of their squared differences from mean;
// the explicit conversions keep each product rounded (no fused
// multiply-add), as the kernel computes it.
func sums16(s *[16]float64, x []float32, mean float64, sq bool) {
	*s = [16]float64{}
	for i := 0; i < len(x); i += 16 {
		for l, v := range x[i : i+16] {
			if sq {
				c := float64(v) - mean
				s[l] += float64(c * c)
			} else {
				s[l] += float64(v)
			}
		}
	}
}

// tree16 adds the sixteen partial sums: s[j] + s[j+8], then j+4, j+2, j+1.
func tree16(s *[16]float64) float64 {
	var t [8]float64
	for j := range 8 {
		t[j] = s[j] + s[j+8]
	}
	for j := range 4 {
		t[j] += t[j+4]
	}
	for j := range 2 {
		t[j] += t[j+2]
	}
	return t[0] + t[1]
}

// Normalize sets y[i] = float32((x[i] − mean)·rstd)·gamma[i] + beta[i],
// the difference and product in float64, the rest rounded to float32 at
// each step, for every i < len(x) (y may be x).
func Normalize(x, gamma, beta, y []float32, mean, rstd float64) {
	if len(x) == 0 {
		return
	}
	gamma, beta, y = gamma[:len(x)], beta[:len(x)], y[:len(x)]
	i := 0
	if k := active.Load(); k != nil && k.normalize != nil && len(x) >= 16 {
		i = len(x) &^ 15
		k.normalize(&x[0], &gamma[0], &beta[0], &y[0], i, mean, rstd)
	}
	for ; i < len(x); i++ {
		y[i] = float32(float32((float64(x[i])-mean)*rstd)*gamma[i]) + beta[i]
	}
}
