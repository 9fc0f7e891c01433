//go:build openblas

package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gonum.org/v1/netlib/blas/netlib"
)

// The openblas build really multiplies with OpenBLAS.
func TestOpenBLASInUse(t *testing.T) {
	if _, ok := G.WhichBLAS().(netlib.Implementation); !ok || BLAS != "openblas" {
		t.Errorf("BLAS %q, implementation %T", BLAS, G.WhichBLAS())
	}
}
