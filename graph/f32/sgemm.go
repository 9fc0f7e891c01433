package f32

import (
	"runtime"
	"sync"

	"github.com/gotransformer/transformer/half"
)

// parallelMin is the number of multiply-adds below which a product runs on
// the calling goroutine alone.
const parallelMin = 1 << 18

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k, op(B)
// is k×n and C is m×n, all row-major with leading dimensions lda, ldb and ldc;
// transA and transB say that A is stored k×m and B n×k. With beta = 0, C is
// not read. It panics if Available is false.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Parallel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, serial)
}

// Part computes C = alpha·op(A)·op(B) + beta·C on the calling goroutine for
// beta 0 or 1 (other arguments as for Sgemm).
type Part func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// Parallel computes C = alpha·op(A)·op(B) + beta·C like Sgemm: it scales C
// by beta unless beta is 0 or 1, then splits the larger of C's dimensions into one part per
// GOMAXPROCS, in whole 6×16 tiles, and runs part on each in its own
// goroutine. Products of fewer than 2^18 multiply-adds run as one part.
// The OpenBLAS build runs single-threaded OpenBLAS calls as the parts, so
// that idle BLAS threads do not spin beside the graph's goroutines.
func Parallel(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, part Part) {
	if alpha == 0 {
		k = 0 // C = beta·C
	}
	split(active.Load(), transA, transB, m, n, k, lda, ldb, beta, c, ldc, func(aoff, boff, coff, m, n int, beta float32) {
		part(transA, transB, m, n, k, alpha, a[aoff:], lda, b[boff:], ldb, beta, c[coff:], ldc)
	})
}

// split does Parallel's work for any part: run computes the part of C at
// coff, m×n, from A at aoff and B at boff, with beta 0 or 1. The parts are
// whole tiles of kernel mk (6×16 where mk is nil).
func split(mk *microKernel, transA, transB bool, m, n, k, lda, ldb int, beta float32, c []float32, ldc int, run func(aoff, boff, coff, m, n int, beta float32)) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if beta != 1 {
			scale(m, n, beta, c, ldc)
		}
		return
	}
	if beta != 0 && beta != 1 {
		scale(m, n, beta, c, ldc)
		beta = 1
	}
	mr, nr := 6, 16
	if mk != nil {
		mr, nr = mk.mr, mk.nr
	}
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < parallelMin || workers == 1 {
		run(0, 0, 0, m, n, beta)
		return
	}
	var wg sync.WaitGroup
	if m >= n {
		step := roundUp((m+workers-1)/workers, mr)
		for lo := 0; lo < m; lo += step {
			hi := min(lo+step, m)
			wg.Go(func() {
				aoff := lo * lda
				if transA {
					aoff = lo
				}
				run(aoff, 0, lo*ldc, hi-lo, n, beta)
			})
		}
	} else {
		step := roundUp((n+workers-1)/workers, nr)
		for lo := 0; lo < n; lo += step {
			hi := min(lo+step, n)
			wg.Go(func() {
				boff := lo
				if transB {
					boff = lo * ldb
				}
				run(0, boff, lo, m, hi-lo, beta)
			})
		}
	}
	wg.Wait()
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// scale multiplies C by beta, writing zeros when beta is 0 (so that NaNs in
// an unset C do not survive).
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// buffers are one goroutine's packed blocks and edge tile.
type buffers struct {
	a    [mc * kc]float32
	b    [kc * nc]float32
	tile [maxTile]float32
}

var pool = sync.Pool{New: func() any { return new(buffers) }}

// directPanels is the number of A panels (of a kernel's mr rows) up to which
// serial reads a row-major B in place instead of packing it: packing costs a
// pass over B, which only pays when many row panels of A reuse it.
const directPanels = 4

// serial computes C = alpha·op(A)·op(B) + beta·C for beta 0 or 1 on the
// calling goroutine. With beta 0 the first block of k stores its tiles
// instead of adding them, so C is never cleared or read.
func serial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	serialB(active.Load(), 0, transA, transB, m, n, k, alpha, a, lda, matB{f32: b}, ldb, beta, c, ldc)
}

// matB is the B operand of serialB: float32 values, or the bits of 16-bit
// numbers of a half.Format, converted as they are packed.
type matB struct {
	f32    []float32
	bits   []uint16
	format half.Format
}

// pack is packB for either kind of B.
func (b matB) pack(nr int, trans bool, kb, nb, ldb, p0, j0 int, dst []float32) {
	if b.bits != nil {
		packBHalf(nr, b.format, trans, kb, nb, b.bits, ldb, p0, j0, dst)
		return
	}
	packB(nr, trans, kb, nb, b.f32, ldb, p0, j0, dst)
}

// serialB is serial, on kernel mk, for either kind of B; round, if not 0,
// rounds the packed values of A and B to that format (SgemmRounded).
func serialB(mk *microKernel, round half.Format, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm matB, ldb int, beta float32, c []float32, ldc int) {
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	b := bm.f32
	// A few rows of C read a row-major B in place; a 16-bit B too, with a
	// kernel that converts it in registers, where the CPU has one.
	mr, nr := mk.mr, mk.nr
	direct := round == 0 && !transB && m <= directPanels*mr && (bm.bits == nil || mk.halfKernel(bm.format) != nil)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			add := pc > 0 || beta != 0
			if !direct {
				bm.pack(nr, transB, kb, nb, ldb, pc, jc, buf.b[:])
				if round != 0 {
					packed := buf.b[:roundUp(nb, nr)*kb]
					half.Round(round, packed, packed)
				}
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packA(mr, transA, mb, kb, alpha, a, lda, ic, pc, buf.a[:])
				if round != 0 {
					packed := buf.a[:roundUp(mb, mr)*kb]
					half.Round(round, packed, packed)
				}
				for jr := 0; jr < nb; jr += nr {
					cols := min(nr, nb-jr)
					bp, bld := buf.b[jr*kb:], nr
					var hp []uint16 // a 16-bit panel read in place
					switch {
					case direct && cols == nr && bm.bits != nil:
						hp, bld = bm.bits[pc*ldb+jc+jr:], ldb
					case direct && cols == nr:
						bp, bld = b[pc*ldb+jc+jr:], ldb
					case direct: // the last, narrower panel: pack it alone
						bm.pack(nr, false, kb, cols, ldb, pc, jc+jr, buf.b[:])
						bp = buf.b[:]
					}
					for ir := 0; ir < mb; ir += mr {
						ap := buf.a[ir*kb:]
						rows := min(mr, mb-ir)
						ci := (ic+ir)*ldc + jc + jr
						if rows == mr && cols == nr {
							mk.tile(bm.format, hp, kb, &ap[0], bp, bld, &c[ci], ldc, add)
							continue
						}
						t := buf.tile[:]
						mk.tile(bm.format, hp, kb, &ap[0], bp, bld, &t[0], nr, false)
						for r := 0; r < rows; r++ {
							cr := c[ci+r*ldc : ci+r*ldc+cols]
							if !add {
								copy(cr, t[r*nr:])
								continue
							}
							for j, v := range t[r*nr : r*nr+cols] {
								cr[j] += v
							}
						}
					}
				}
			}
		}
	}
}

// tile runs the micro-kernel on one tile: on the 16-bit panel hp of format
// f when there is one, else on the float32 panel bp.
func (mk *microKernel) tile(f half.Format, hp []uint16, k int, a *float32, bp []float32, ldb int, c *float32, ldc int, add bool) {
	if hp == nil {
		mk.f32(k, a, &bp[0], ldb, c, ldc, add)
		return
	}
	mk.halfKernel(f)(k, a, &hp[0], ldb, c, ldc, add)
}

// halfKernel returns the kernel's micro-kernel that reads format f in
// place, or nil where it has none (or directHalf is off).
func (mk *microKernel) halfKernel(f half.Format) func(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool) {
	switch {
	case !directHalf:
		return nil
	case f == half.F16:
		return mk.f16
	default:
		return mk.bf16
	}
}

// directHalf switches the in-place 16-bit kernels on (tests turn it off to
// check them against the packing path).
var directHalf = true

// packA copies alpha·op(A)[i0:i0+mb, p0:p0+kb] into panels of mr rows: panel
// q holds, for each p, the mr values of rows q·mr … q·mr+mr−1 (zeros past mb).
func packA(mr int, trans bool, mb, kb int, alpha float32, a []float32, lda, i0, p0 int, dst []float32) {
	for q := 0; q < mb; q += mr {
		panel := dst[q*kb : (q+mr)*kb]
		rows := min(mr, mb-q)
		if rows < mr {
			clear(panel)
		}
		if trans { // op(A)[i, p] = a[p*lda + i]: rows are contiguous in a
			for p := 0; p < kb; p++ {
				src := a[(p0+p)*lda+i0+q : (p0+p)*lda+i0+q+rows]
				out := panel[p*mr : p*mr+rows]
				for r, v := range src {
					out[r] = alpha * v
				}
			}
			continue
		}
		if rows < mr || mr%6 != 0 {
			for r := 0; r < rows; r++ {
				src := a[(i0+q+r)*lda+p0 : (i0+q+r)*lda+p0+kb]
				for p, v := range src {
					panel[p*mr+r] = alpha * v
				}
			}
			continue
		}
		// Six rows at once: the writes are contiguous.
		for g := 0; g < mr; g += 6 {
			o := (i0+q+g)*lda + p0
			r0, r1, r2 := a[o:o+kb], a[o+lda:o+lda+kb], a[o+2*lda:o+2*lda+kb]
			r3, r4, r5 := a[o+3*lda:o+3*lda+kb], a[o+4*lda:o+4*lda+kb], a[o+5*lda:o+5*lda+kb]
			for p := range r0 {
				out := panel[p*mr+g : p*mr+g+6 : p*mr+g+6]
				out[0], out[1], out[2] = alpha*r0[p], alpha*r1[p], alpha*r2[p]
				out[3], out[4], out[5] = alpha*r3[p], alpha*r4[p], alpha*r5[p]
			}
		}
	}
}

// packB copies op(B)[p0:p0+kb, j0:j0+nb] into panels of nr columns: panel q
// holds, for each p, the nr values of columns q·nr … q·nr+nr−1 (zeros past
// nb).
func packB(nr int, trans bool, kb, nb int, b []float32, ldb, p0, j0 int, dst []float32) {
	for q := 0; q < nb; q += nr {
		panel := dst[q*kb : (q+nr)*kb]
		cols := min(nr, nb-q)
		if cols < nr {
			clear(panel)
		}
		if trans { // op(B)[p, j] = b[j*ldb + p]
			for j := 0; j < cols; j++ {
				src := b[(j0+q+j)*ldb+p0 : (j0+q+j)*ldb+p0+kb]
				for p, v := range src {
					panel[p*nr+j] = v
				}
			}
			continue
		}
		for p := 0; p < kb; p++ {
			copy(panel[p*nr:p*nr+cols], b[(p0+p)*ldb+j0+q:])
		}
	}
}
