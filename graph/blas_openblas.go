//go:build openblas

package graph

// Build with OpenBLAS: CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas ./...
// (Debian: apt-get install libopenblas-dev).
//
// Single-precision products are split across goroutines by f32.Parallel,
// each part a single-threaded OpenBLAS call: OpenBLAS's own threads busy-wait
// after each product and took CPU from the graph's goroutines (a seventh of a
// training step's CPU time went to their spinning). OpenBLAS itself runs on
// one thread, whatever OPENBLAS_NUM_THREADS says.

/*
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph/f32"
)

func init() {
	G.Use(openBLAS{}) // also sets tensor's BLAS
	setBLASName()
	C.openblas_set_num_threads(1)
}

// setBLASName keeps BLAS "openblas": the kernel choice sets the exponential.
func setBLASName() { BLAS = "openblas" }

// openBLAS is OpenBLAS through gonum's netlib bindings, with Sgemm split
// across goroutines.
type openBLAS struct{ netlib.Implementation }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C in parts of single-threaded
// OpenBLAS calls; calls with invalid arguments go to netlib's, which panics
// with its usual message.
func (openBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := tA != blas.NoTrans, tB != blas.NoTrans
	if !gemmArgsValid(ta, tb, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		netlib.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	f32.Parallel(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, openBLASPart)
}

// openBLASPart is one single-threaded OpenBLAS product.
func openBLASPart(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if ta {
		tA = blas.Trans
	}
	if tb {
		tB = blas.Trans
	}
	netlib.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
