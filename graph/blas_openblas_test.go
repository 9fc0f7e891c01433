//go:build openblas

package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
)

// The openblas build really multiplies with OpenBLAS.
func TestOpenBLASInUse(t *testing.T) {
	if _, ok := G.WhichBLAS().(openBLAS); !ok || BLAS != "openblas" {
		t.Errorf("BLAS %q, implementation %T", BLAS, G.WhichBLAS())
	}
}
