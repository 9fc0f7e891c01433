package i8

import (
	"math"
	"runtime"
	"sync"
)

// parallelMin is the number of multiply-adds below which a product runs on
// the calling goroutine alone.
const parallelMin = 1 << 18

// Product sets c = x·W + bias for float32 x [rows, K] and c [rows, N]
// (row-major, rows K and N values apart); bias has N values, or is nil for
// none. Each row of x is quantised symmetrically to int8 with its own
// scale (max |x| / 127), the products are summed exactly in int32, and a
// sum s becomes the float32 s · xScale · Scale[j] (+ bias[j]). It panics if
// the slices are too short.
func (m *Matrix) Product(rows int, x, bias, c []float32) {
	if rows == 0 {
		return
	}
	_, _ = x[rows*m.K-1], c[rows*m.N-1]
	if bias != nil {
		_ = bias[m.N-1]
	}
	if bias == nil {
		bias = m.zeros // the fused kernels read a bias for whole blocks
	}
	k := active.Load()
	prows := (rows + tileRows - 1) / tileRows * tileRows
	buf := getBytes(prows * m.k4)
	defer putBytes(buf)
	xsBuf := getFloats(prows)
	defer putFloats(xsBuf)
	xq, xs := (*buf)[:prows*m.k4], *xsBuf
	quantizeRows(rows, m.K, m.k4, x, xq, xs, k.unsigned)
	for i := rows * m.k4; i < len(xq); i++ { // padding rows: zero
		xq[i] = 0
		if k.unsigned {
			xq[i] = -128
		}
	}
	blocks := (m.N + blockCols - 1) / blockCols
	workers := runtime.GOMAXPROCS(0)
	if rows*m.K*m.N < parallelMin || workers == 1 || blocks == 1 {
		m.blocks(k, 0, blocks, rows, xq, xs, bias, c)
		return
	}
	var wg sync.WaitGroup
	step := (blocks + workers - 1) / workers
	for lo := 0; lo < blocks; lo += step {
		hi := min(lo+step, blocks)
		wg.Go(func() { m.blocks(k, lo, hi, rows, xq, xs, bias, c) })
	}
	wg.Wait()
}

// blocks computes the columns of blocks lo…hi−1 for every row; bias has
// N values (the fused kernels read it for whole blocks only).
func (m *Matrix) blocks(k *kernel, lo, hi, rows int, xq []int8, xs, bias, c []float32) {
	// The int32 sums of tiles the fused kernels do not take (edge tiles, or
	// no fused kernel): from a pool, as the kernel's pointer makes them
	// escape.
	var acc *[tileRows * blockCols]int32
	defer func() {
		if acc != nil {
			accPool.Put(acc)
		}
	}()
	// One epilogue for every tile: the kernel is called through a function
	// value, so what it points to escapes, and a tile's own would be a heap
	// allocation each.
	var e *epilogue
	if k.scaled != nil {
		e = &epilogue{ldc: m.N}
	}
	for b := lo; b < hi; b++ {
		w := m.packed[b*m.k4*blockCols : (b+1)*m.k4*blockCols]
		j0 := b * blockCols
		cols := min(blockCols, m.N-j0)
		for r0 := 0; r0 < rows; r0 += tileRows {
			if k.scaled != nil && cols == blockCols && r0+tileRows <= rows {
				e.corr, e.scale, e.bias, e.xs, e.c = &m.corr[j0], &m.scalePad[j0], &bias[j0], &xs[r0], &c[r0*m.N+j0]
				k.scaled(m.k4, xq[r0*m.k4:], m.k4, w, e)
				continue
			}
			if acc == nil {
				acc = accPool.Get().(*[tileRows * blockCols]int32)
			}
			k.tile(m.k4, xq[r0*m.k4:], m.k4, w, acc)
			for r := r0; r < min(r0+tileRows, rows); r++ {
				out := c[r*m.N+j0 : r*m.N+j0+cols]
				a := acc[(r-r0)*blockCols:]
				for j := range out {
					s := a[j]
					if k.unsigned {
						s += m.corr[j0+j]
					}
					// The conversions keep each product rounded, as the
					// fused kernels compute it (no FMA).
					out[j] = float32(float32(float32(s)*xs[r])*m.Scale[j0+j]) + bias[j0+j]
				}
			}
		}
	}
}

// quantizeRows rounds each row of x [rows, k] to int8 with its own scale
// into xq (rows k4 apart, zero-padded), storing the scales in xs; unsigned
// adds 128 (stored as the bits of a uint8). A row that is not finite
// quantises to NaN results (scale NaN). With AVX-512 (and a kernel other
// than the scalar one) the rows' maxima and roundings run 16 lanes at a
// time, to the same values.
func quantizeRows(rows, k, k4 int, x []float32, xq []int8, xs []float32, unsigned bool) {
	vec := 0
	if hasQuantAVX512 && useQuantAVX512 && active.Load().name != Pure {
		vec = k &^ 15
	}
	for r := 0; r < rows; r++ {
		row := x[r*k : (r+1)*k]
		var amax float32
		if vec > 0 {
			amax = absMaxAVX512(&row[0], vec)
		}
		for _, v := range row[vec:] {
			amax = max(amax, abs(v))
		}
		if math.IsInf(float64(amax), 0) || amax != amax {
			amax = float32(math.NaN())
		}
		s := amax / 127
		inv := 1 / s
		if s == 0 || math.IsInf(float64(inv), 0) {
			// A row of zeros, or of values so small (below about 4e-37)
			// that 1/s overflows: it quantises to zeros.
			s, inv = 1, 1
		}
		xs[r] = s
		out := xq[r*k4 : (r+1)*k4]
		if vec > 0 {
			quantizeAVX512(&out[0], &row[0], vec, inv, unsigned)
		}
		for p, v := range row[vec:] {
			q := int8(clamp(roundEven(v * inv)))
			if unsigned {
				q ^= -128 // q + 128 as a uint8
			}
			out[vec+p] = q
		}
		for p := k; p < k4; p++ {
			out[p] = 0
			if unsigned {
				out[p] = -128
			}
		}
	}
}

// useQuantAVX512 switches the AVX-512 rounding on (tests turn it off to
// compare).
var useQuantAVX512 = true

var (
	bytePool  = sync.Pool{New: func() any { return new([]int8) }}
	floatPool = sync.Pool{New: func() any { return new([]float32) }}
)

func getFloats(n int) *[]float32 {
	b := floatPool.Get().(*[]float32)
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return b
}

func putFloats(b *[]float32) { floatPool.Put(b) }

func getBytes(n int) *[]int8 {
	b := bytePool.Get().(*[]int8)
	if cap(*b) < n {
		*b = make([]int8, n)
	}
	*b = (*b)[:n]
	return b
}

func putBytes(b *[]int8) { bytePool.Put(b) }

var accPool = sync.Pool{New: func() any { return new([tileRows * blockCols]int32) }}
