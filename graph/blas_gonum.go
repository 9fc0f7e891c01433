//go:build !openblas

package graph

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph/f32"
)

// The pure-Go build's BLAS is gonum's, with single-precision products done by
// package f32's assembly kernel where the processor has one (UseKernel).
func init() {
	G.Use(goBLAS{}) // also sets tensor's BLAS
	setBLASName()
}

// setBLASName sets BLAS for the kernel in use.
func setBLASName() {
	BLAS = "gonum"
	if f32.Available() {
		BLAS = "go-" + f32.Kernel()
	}
}

// goBLAS is gonum's BLAS with Sgemm replaced by f32.Sgemm.
type goBLAS struct{ gonum.Implementation }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with package f32; calls
// with invalid arguments go to gonum's, which panics with its usual message,
// and so do all calls when no f32 kernel is in use.
func (goBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := tA != blas.NoTrans, tB != blas.NoTrans
	if !f32.Available() || !gemmArgsValid(ta, tb, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	f32.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
