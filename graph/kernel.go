package graph

import (
	"slices"

	"github.com/gotransformer/transformer/graph/f32"
	"github.com/gotransformer/transformer/graph/i8"
)

// Kernels names the matrix-product kernels this build runs on this
// processor, fastest first: package f32's assembly micro-kernels ("avx512",
// "avx2") where the CPU has them, then "go", the pure-Go path (gonum's
// Sgemm and a scalar exponential). The OpenBLAS build's products are
// OpenBLAS's whatever the kernel; there the choice sets the exponential.
func Kernels() []string { return append(f32.Kernels(), f32.Pure) }

// Kernel names the kernel in use (one of Kernels).
func Kernel() string { return f32.Kernel() }

// Int8Kernel names the kernel of int8 products in use (package i8: "vnni",
// "avx2" or "go"), which UseKernel sets with the float32 one.
func Int8Kernel() string { return i8.Kernel() }

// UseKernel makes every later matrix product and softmax exponential run on
// the named kernel, so that a slower path can be forced for a comparison or
// a test: float32 products on f32's kernel of that name, int8 products on
// the i8 kernel of the same instruction set ("avx512": VNNI where the CPU
// has it, else AVX2; "avx2": AVX2; "go": the scalar one). Call it before
// building or running graphs; it fails, changing nothing, for a kernel this
// processor lacks.
func UseKernel(name string) error {
	if err := f32.UseKernel(name); err != nil {
		return err
	}
	q := i8.Kernels()[0] // the fastest, for avx512
	switch {
	case name == f32.Pure:
		q = i8.Pure
	case name == "avx2" && slices.Contains(i8.Kernels(), "avx2"):
		q = "avx2"
	}
	if err := i8.UseKernel(q); err != nil {
		return err // not reached: every i8 kernel named above exists
	}
	setBLASName()
	return nil
}
