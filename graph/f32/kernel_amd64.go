//go:build !purego

package f32

import "golang.org/x/sys/cpu"

// hasKernel reports whether this processor runs the AVX2/FMA micro-kernel.
var hasKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16 adds A·B to the 6×16 tile at c (rows ldc floats apart), or
// stores it there when add is false, for k steps of a packed A panel (6
// values a step) and k rows of 16 B values, ldb floats apart (16 for a
// packed panel).
//
//go:noescape
func kernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

// expShiftAVX2 is ExpShift for n a multiple of 8.
//
//go:noescape
func expShiftAVX2(dst, src *float32, n int, shift float32) (sum float32)

// kernel6x16f16 is kernel6x16 for a B of float16 bits, ldb values apart.
//
//go:noescape
func kernel6x16f16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)

// kernel6x16bf16 is kernel6x16 for a B of bfloat16 bits, ldb values apart.
//
//go:noescape
func kernel6x16bf16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)
