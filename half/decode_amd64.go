//go:build !purego

package half

import "golang.org/x/sys/cpu"

var (
	cpuF16C = cpu.X86.HasAVX && cpuid1ECX()&(1<<29) != 0
	cpuAVX2 = cpu.X86.HasAVX2
	hasF16C = cpuF16C
	hasAVX2 = cpuAVX2
)

// cpuid1ECX is ECX of CPUID leaf 1, whose bit 29 is F16C.
func cpuid1ECX() uint32

// decodeF16C converts n (a multiple of 8) Float16 bits at src to float32s at dst.
//
//go:noescape
func decodeF16C(dst *float32, src *uint16, n int)

// decodeBF16AVX2 converts n (a multiple of 8) BFloat16 bits at src to float32s at dst.
//
//go:noescape
func decodeBF16AVX2(dst *float32, src *uint16, n int)

// roundF16C rounds n (a multiple of 8) float32s at src to the nearest
// Float16 values, to nearest even, and stores them as float32s at dst.
//
//go:noescape
func roundF16C(dst, src *float32, n int)

// roundBF16AVX2 rounds n (a multiple of 8) float32s at src to the nearest
// BFloat16 values, to nearest even, and stores them as float32s at dst.
//
//go:noescape
func roundBF16AVX2(dst, src *float32, n int)
