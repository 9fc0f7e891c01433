//go:build openblas

package graph

// Build with OpenBLAS: CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas ./...
// (Debian: apt-get install libopenblas-dev). OPENBLAS_NUM_THREADS sets the
// number of threads.

/*
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

func init() {
	G.Use(netlib.Implementation{}) // also sets tensor's BLAS
	BLAS = "openblas"
}

func setBLASThreads(n int) int {
	old := int(C.openblas_get_num_threads())
	if n > 0 {
		C.openblas_set_num_threads(C.int(n))
	}
	return old
}
