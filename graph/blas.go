package graph

// BLAS names the matrix-multiply implementation in use: "go-avx512" or
// "go-avx2" (the pure-Go build with package f32's AVX-512 or AVX2/FMA
// kernel), "gonum" (the pure-Go build on processors without either, with the
// purego tag, or with UseKernel("go")) or "openblas" (the openblas build
// tag).
var BLAS = "gonum"

// gemmArgsValid reports whether the shapes, leading dimensions and slice
// lengths of a row-major gemm call are consistent.
func gemmArgsValid(ta, tb bool, m, n, k, la, lda, lb, ldb, lc, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		return false
	}
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	fits := func(rows, cols, ld, l int) bool {
		return ld >= max(1, cols) && (rows == 0 || cols == 0 || l >= (rows-1)*ld+cols)
	}
	return fits(ar, ac, lda, la) && fits(br, bc, ldb, lb) && fits(m, n, ldc, lc)
}
