//go:build !openblas

package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph/f32"
)

// The pure-Go build multiplies with package f32's kernel where the processor
// has one.
func TestGoBLASInUse(t *testing.T) {
	_, ours := G.WhichBLAS().(goBLAS)
	if f32.Available() != ours || (ours && BLAS != "go-avx2") || (!ours && BLAS != "gonum") {
		t.Errorf("f32.Available() = %v, BLAS %q, implementation %T", f32.Available(), BLAS, G.WhichBLAS())
	}
	var _ G.BLAS = goBLAS{}
}
