package f32

import (
	"math"
	"sync"

	"github.com/gotransformer/transformer/half"
)

// SgemmBF16 computes C = op(A)·op(B) + beta·C for A and B of bfloat16
// numbers, given by their bits (half.BFloat16Bits), and float32 C; the
// arguments are as for Sgemm (alpha 1). Where the CPU has AVX512_BF16
// (BF16Native), a VDPBF16PS micro-kernel multiplies pairs of bfloat16
// values and adds both products to float32 sums (each product is exact in
// float32, so the result is that of float32 arithmetic on the pairs, in the
// instruction's order: TestSgemmBF16MatchesEmulation). Elsewhere A and B are
// converted to float32 and multiplied by Sgemm. It panics if Available is
// false.
func SgemmBF16(transA, transB bool, m, n, k int, a []uint16, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	if !BF16Native() {
		af, bf := make([]float32, len(a)), make([]float32, len(b))
		half.Decode(half.BF16, af, a)
		half.Decode(half.BF16, bf, b)
		Sgemm(transA, transB, m, n, k, 1, af, lda, bf, ldb, beta, c, ldc)
		return
	}
	split(bf16Tile, transA, transB, m, n, k, lda, ldb, beta, c, ldc, func(aoff, boff, coff, m, n int, beta float32) {
		serialBF16(transA, transB, m, n, k, bits16(a[aoff:]), lda, bits16(b[boff:]), ldb, beta, c[coff:], ldc)
	})
}

// SgemmRoundedBF16 is SgemmBF16 on float32 A and B, each value rounded to
// the nearest bfloat16 (ties to even; NaN stays NaN) as it is packed: the
// product of mixed-precision training, with no bfloat16 copy of A or B. It
// needs BF16Native.
func SgemmRoundedBF16(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	split(bf16Tile, transA, transB, m, n, k, lda, ldb, beta, c, ldc, func(aoff, boff, coff, m, n int, beta float32) {
		serialBF16(transA, transB, m, n, k, rounded(a[aoff:]), lda, rounded(b[boff:]), ldb, beta, c[coff:], ldc)
	})
}

// A bf16Source is a matrix's values, read as bfloat16 bits a run at a time.
type bf16Source interface {
	// read fills dst with the values from offset off on.
	read(dst []uint16, off int)
}

// bits16 holds bfloat16 bits.
type bits16 []uint16

func (s bits16) read(dst []uint16, off int) { copy(dst, s[off:off+len(dst)]) }

// rounded holds float32 values, rounded to bfloat16 as they are read.
type rounded []float32

func (s rounded) read(dst []uint16, off int) {
	src := s[off : off+len(dst)]
	for i, v := range src {
		b := math.Float32bits(v)
		if b&0x7fffffff > 0x7f800000 {
			dst[i] = 0x7fc0 // NaN
			continue
		}
		dst[i] = uint16((b + 0x7fff + (b>>16)&1) >> 16)
	}
}

// BF16Native reports whether SgemmBF16 runs the VDPBF16PS kernel: the CPU
// has AVX512_BF16 and the kernel in use is "avx512".
func BF16Native() bool { return hasBF16 && useBF16 && Kernel() == "avx512" }

// useBF16 switches the VDPBF16PS kernel on (tests turn it off to check the
// conversion path).
var useBF16 = true

// bf16Tile is the tile of the VDPBF16PS kernel, for split.
var bf16Tile = &microKernel{name: "avx512-bf16", mr: 12, nr: 32}

// bf16Buffers are one goroutine's packed blocks: A panels of 12 rows and B
// panels of 32 columns, each holding pairs of k.
type bf16Buffers struct {
	a    [mc * (kc + 1)]uint16
	b    [(kc + 1) * nc]uint16
	tile [12 * 32]float32
	line [max(kc, mc, nc)]uint16 // one run of values being packed
}

var bf16Pool = sync.Pool{New: func() any { return new(bf16Buffers) }}

// serialBF16 is SgemmBF16 on the calling goroutine for beta 0 or 1.
func serialBF16(transA, transB bool, m, n, k int, a bf16Source, lda int, b bf16Source, ldb int, beta float32, c []float32, ldc int) {
	const mr, nr = 12, 32
	buf := bf16Pool.Get().(*bf16Buffers)
	defer bf16Pool.Put(buf)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			kp := (kb + 1) / 2 // pairs, the last padded with a zero
			add := pc > 0 || beta != 0
			packBPairs(transB, kb, nb, b, ldb, pc, jc, buf.b[:], buf.line[:])
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packAPairs(transA, mb, kb, a, lda, ic, pc, buf.a[:], buf.line[:])
				for jr := 0; jr < nb; jr += nr {
					cols := min(nr, nb-jr)
					bp := buf.b[jr*2*kp:]
					for ir := 0; ir < mb; ir += mr {
						ap := buf.a[ir*2*kp:]
						rows := min(mr, mb-ir)
						ci := (ic+ir)*ldc + jc + jr
						if rows == mr && cols == nr {
							kernel12x32bf16pairs(kp, &ap[0], &bp[0], &c[ci], ldc, add)
							continue
						}
						t := buf.tile[:]
						kernel12x32bf16pairs(kp, &ap[0], &bp[0], &t[0], nr, false)
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

// packAPairs copies op(A)[i0:i0+mb, p0:p0+kb] into panels of 12 rows: for
// each pair q of k, panel values [q][r][t] = op(A)[i0+r, p0+2q+t], zeros
// past mb rows and kb values. line is scratch for one run of A.
func packAPairs(trans bool, mb, kb int, a bf16Source, lda, i0, p0 int, dst, line []uint16) {
	const mr = 12
	kp := (kb + 1) / 2
	for q := 0; q < mb; q += mr {
		panel := dst[q*2*kp : (q+mr)*2*kp]
		clear(panel)
		rows := min(mr, mb-q)
		if trans { // op(A)[i, p] = a[p*lda + i]: runs of rows
			for p := 0; p < kb; p++ {
				run := line[:rows]
				a.read(run, (p0+p)*lda+i0+q)
				spreadK(panel, run, 2*mr, p)
			}
			continue
		}
		for r := 0; r < rows; r++ {
			run := line[:kb]
			a.read(run, (i0+q+r)*lda+p0)
			spreadPairs(panel, run, 2*mr, r)
		}
	}
}

// packBPairs copies op(B)[p0:p0+kb, j0:j0+nb] into panels of 32 columns: for
// each pair q of k, panel values [q][j][t] = op(B)[p0+2q+t, j0+j], zeros
// past nb columns and kb values. line is scratch for one run of B.
func packBPairs(trans bool, kb, nb int, b bf16Source, ldb, p0, j0 int, dst, line []uint16) {
	const nr = 32
	kp := (kb + 1) / 2
	for q := 0; q < nb; q += nr {
		panel := dst[q*2*kp : (q+nr)*2*kp]
		clear(panel)
		cols := min(nr, nb-q)
		if trans { // op(B)[p, j] = b[j*ldb + p]: runs of k
			for j := 0; j < cols; j++ {
				run := line[:kb]
				b.read(run, (j0+q+j)*ldb+p0)
				spreadPairs(panel, run, 2*nr, j)
			}
			continue
		}
		for p := 0; p < kb; p++ {
			run := line[:cols]
			b.read(run, (p0+p)*ldb+j0+q)
			spreadK(panel, run, 2*nr, p)
		}
	}
}

// spreadPairs writes a run of k values of one row (of A) or column (of B)
// into its slot col of a pair-packed panel whose pairs of k are stride
// values apart: pair q at panel[q·stride + 2·col], a zero left after an odd
// last value.
func spreadPairs(panel, run []uint16, stride, col int) {
	kb := len(run)
	for p := 0; p+1 < kb; p += 2 {
		o := (p/2)*stride + 2*col
		panel[o], panel[o+1] = run[p], run[p+1]
	}
	if kb%2 == 1 {
		panel[(kb/2)*stride+2*col] = run[kb-1]
	}
}

// spreadK writes a run of values that share one index p of k (one value
// of each row of A, or of each column of B) into a pair-packed panel whose
// pairs are stride values apart: value i at panel[(p/2)·stride + 2i + p%2].
func spreadK(panel, run []uint16, stride, p int) {
	out := panel[(p/2)*stride+p%2:]
	for i, v := range run {
		out[2*i] = v
	}
}
