package i8

import (
	"fmt"
	"math"
)

// blockCols is the width of a packed column block: 64 columns, each with
// its values in groups of four consecutive rows of k.
const blockCols = 64

// Matrix is a weight matrix W [K, N] quantised to int8 per column and
// packed for the kernels.
type Matrix struct {
	K, N int
	// Scale holds N scales: W[p, j] ≈ Scale[j] · Q(p, j).
	Scale []float32
	// packed holds ⌈N/64⌉ blocks; block b holds, for each group g of four
	// rows (k padded to a multiple of 4 with zeros), 64 columns × 4 values:
	// packed[b·k4·64 + g·256 + c·4 + t] = Q(4g+t, 64b+c).
	packed []int8
	// corr is −128 · Σ_p Q(p, j), padded to whole blocks with zeros: the
	// correction of the sums of the kernels that take x + 128.
	corr []int32
	// scalePad is Scale padded to whole blocks with zeros.
	scalePad []float32
	// zeros is the bias of products without one.
	zeros []float32
	k4    int // K rounded up to a multiple of 4
}

// Quantize rounds W to int8, per column symmetrically: scale_j is
// max_p |W[p, j]| / 127 (1 for a column of zeros) and Q(p, j) the nearest
// integer to W[p, j] / scale_j. W is [k, n] row-major, or [n, k] when trans
// (the layout of a tied embedding used as the output projection). It fails
// for shapes that do not fit w and for values that are not finite.
func Quantize(w []float32, k, n int, trans bool) (*Matrix, error) {
	if k <= 0 || n <= 0 || len(w) != k*n {
		return nil, fmt.Errorf("i8: a %d×%d matrix cannot hold %d values", k, n, len(w))
	}
	at := func(p, j int) float32 {
		if trans {
			return w[j*k+p]
		}
		return w[p*n+j]
	}
	blocks := (n + blockCols - 1) / blockCols
	m := &Matrix{K: k, N: n, scalePad: make([]float32, blocks*blockCols), corr: make([]int32, blocks*blockCols), k4: (k + 3) &^ 3}
	m.Scale, m.zeros = m.scalePad[:n], make([]float32, n)
	m.packed = make([]int8, blocks*m.k4*blockCols)
	for j := 0; j < n; j++ {
		var amax float32
		for p := 0; p < k; p++ {
			v := at(p, j)
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("i8: W[%d, %d] is %v", p, j, v)
			}
			amax = max(amax, abs(v))
		}
		s := amax / 127
		if s == 0 {
			s = 1
		}
		m.Scale[j] = s
		b, c := j/blockCols, j%blockCols
		for p := 0; p < k; p++ {
			q := int8(clamp(roundEven(at(p, j) / s)))
			m.packed[b*m.k4*blockCols+(p/4)*4*blockCols+c*4+p%4] = q
			m.corr[j] -= 128 * int32(q)
		}
	}
	return m, nil
}

// Q returns the quantised value of W[p, j].
func (m *Matrix) Q(p, j int) int8 {
	return m.packed[(j/blockCols)*m.k4*blockCols+(p/4)*4*blockCols+(j%blockCols)*4+p%4]
}

// Bytes is the memory the matrix holds: its int8 values (with padding),
// scales, column corrections and zero bias.
func (m *Matrix) Bytes() int {
	return len(m.packed) + 4*len(m.scalePad) + 4*len(m.corr) + 4*len(m.zeros)
}

// Dequantize returns the float32 matrix [K, N] that the int8 values stand
// for (Scale[j] · Q(p, j)).
func (m *Matrix) Dequantize() []float32 {
	out := make([]float32, m.K*m.N)
	for p := 0; p < m.K; p++ {
		for j := 0; j < m.N; j++ {
			out[p*m.N+j] = m.Scale[j] * float32(m.Q(p, j))
		}
	}
	return out
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// roundEven rounds to the nearest integer, ties to even (as PyTorch's
// quantize_per_channel and VCVTPS2DQ do): adding and subtracting 1.5·2²³
// leaves the integer part, for |x| < 2²², and float32 sums round to even.
// Larger values are clamped anyway.
func roundEven(x float32) float32 {
	const magic = 12582912 // 1.5·2²³
	if x != x {
		return x
	}
	if abs(x) >= 1<<22 {
		return x
	}
	return (x + magic) - magic
}

// clamp limits x to [−127, 127]. (What a NaN becomes does not matter: a
// row with one has a NaN scale, so NaN results.)
func clamp(x float32) float32 { return min(127, max(-127, x)) }

// Concat returns the matrix [K, N₁+N₂+…] whose columns are those of ms in
// turn: the same int8 values, scales and products, column for column, as
// each of ms (per-column quantisation makes them independent). ms must
// share K, and every one but the last must have whole blocks of columns
// (N a multiple of 64), so that their packed blocks are copied as they
// are.
func Concat(ms ...*Matrix) (*Matrix, error) {
	if len(ms) == 0 {
		return nil, fmt.Errorf("i8: nothing to concatenate")
	}
	k, n := ms[0].K, 0
	for i, m := range ms {
		if m.K != k {
			return nil, fmt.Errorf("i8: matrix %d has %d rows, not %d", i, m.K, k)
		}
		if i < len(ms)-1 && m.N%blockCols != 0 {
			return nil, fmt.Errorf("i8: matrix %d has %d columns, not whole blocks of %d", i, m.N, blockCols)
		}
		n += m.N
	}
	c := &Matrix{K: k, N: n, k4: ms[0].k4}
	for _, m := range ms {
		c.packed = append(c.packed, m.packed...)
		c.scalePad = append(c.scalePad, m.scalePad...)
		c.corr = append(c.corr, m.corr...)
	}
	c.Scale, c.zeros = c.scalePad[:n], make([]float32, n)
	return c, nil
}
