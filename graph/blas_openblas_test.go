//go:build openblas

package graph

import (
	"testing"

	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// The openblas build really multiplies with OpenBLAS.
func TestOpenBLASInUse(t *testing.T) {
	if _, ok := G.WhichBLAS().(netlib.Implementation); !ok || BLAS != "openblas" {
		t.Errorf("BLAS %q, implementation %T", BLAS, G.WhichBLAS())
	}
}
