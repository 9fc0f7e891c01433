package graph

import (
	"github.com/gotransformer/transformer/graph/f32"
)

// Kernels names the matrix-product kernels this build runs on this
// processor, fastest first: package f32's assembly micro-kernels ("avx512",
// "avx2") where the CPU has them, then "go", the pure-Go path (gonum's
// Sgemm and a scalar exponential). The OpenBLAS build's products are
// OpenBLAS's whatever the kernel; there the choice sets the exponential.
func Kernels() []string { return append(f32.Kernels(), f32.Pure) }

// Kernel names the kernel in use (one of Kernels).
func Kernel() string { return f32.Kernel() }

// UseKernel makes every later matrix product and softmax exponential run on
// the named kernel, so that a slower path can be forced for a comparison or
// a test. Call it before building or running graphs; it fails, changing
// nothing, for a kernel this processor lacks.
func UseKernel(name string) error {
	if err := f32.UseKernel(name); err != nil {
		return err
	}
	setBLASName()
	return nil
}
