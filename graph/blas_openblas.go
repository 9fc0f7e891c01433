//go:build openblas

package graph

// Build with OpenBLAS: CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas ./...
// (Debian: apt-get install libopenblas-dev). OPENBLAS_NUM_THREADS sets the
// number of threads.

import (
	G "gorgonia.org/gorgonia"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() {
	G.Use(netlib.Implementation{}) // also sets tensor's BLAS
	BLAS = "openblas"
}
