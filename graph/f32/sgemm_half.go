package f32

import "github.com/gotransformer/transformer/half"

// SgemmHalf computes C = op(A)·op(B) + beta·C like Sgemm (alpha 1), for a
// B whose values are 16-bit numbers of format f, given by their bits
// (half.Float16Bits, half.BFloat16Bits). B is converted to float32 as it
// is packed, a kc×nc block at a time, so no float32 copy of it is made:
// the products and sums are float32 as in Sgemm. It panics if Available
// is false.
func SgemmHalf(f half.Format, transB bool, m, n, k int, a []float32, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	mk := active.Load()
	split(mk, false, transB, m, n, k, lda, ldb, beta, c, ldc, func(aoff, boff, coff, m, n int, beta float32) {
		serialB(mk, 0, false, transB, m, n, k, 1, a[aoff:], lda, matB{bits: b[boff:], format: f}, ldb, beta, c[coff:], ldc)
	})
}

// SgemmRounded computes C = op(A)·op(B) + beta·C like Sgemm (alpha 1),
// with every value of A and B rounded to the nearest number of format f
// (half.Round) as it is packed: the product of two 16-bit matrices with
// float32 sums, as mixed-precision training needs, without a rounded copy
// of either. It panics if Available is false.
func SgemmRounded(f half.Format, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mk := active.Load()
	split(mk, transA, transB, m, n, k, lda, ldb, beta, c, ldc, func(aoff, boff, coff, m, n int, beta float32) {
		serialB(mk, f, transA, transB, m, n, k, 1, a[aoff:], lda, matB{f32: b[boff:]}, ldb, beta, c[coff:], ldc)
	})
}

// packBHalf is packB for a B of 16-bit numbers: each row of a panel (or,
// transposed, each column) is converted with half.Decode.
func packBHalf(nr int, f half.Format, trans bool, kb, nb int, b []uint16, ldb, p0, j0 int, dst []float32) {
	var col [kc]float32
	for q := 0; q < nb; q += nr {
		panel := dst[q*kb : (q+nr)*kb]
		cols := min(nr, nb-q)
		if cols < nr {
			clear(panel)
		}
		if trans { // op(B)[p, j] = b[j*ldb + p]: convert a column, then spread it
			for j := 0; j < cols; j++ {
				o := (j0+q+j)*ldb + p0
				half.Decode(f, col[:kb], b[o:o+kb])
				for p, v := range col[:kb] {
					panel[p*nr+j] = v
				}
			}
			continue
		}
		for p := 0; p < kb; p++ {
			o := (p0+p)*ldb + j0 + q
			half.Decode(f, panel[p*nr:p*nr+cols], b[o:o+cols])
		}
	}
}
