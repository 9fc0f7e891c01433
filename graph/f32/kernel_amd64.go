//go:build !purego

package f32

import (
	"golang.org/x/sys/cpu"

	"github.com/gotransformer/transformer/half"
)

// The amd64 micro-kernels, chosen by the processor's features: AVX-512
// (F and BW: a 12×32 tile in 24 ZMM registers) before AVX2 with FMA (6×16 in
// 12 YMM registers).
func init() {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW {
		kernels = append(kernels, &microKernel{name: "avx512", mr: 12, nr: 32,
			f32: kernel12x32avx512, f16: kernel12x32avx512f16, bf16: kernel12x32avx512bf16,
			exp: expShiftAVX512, lanes: 16, dot: dotAVX512, axpy: axpyAVX512, dots: dotsAVX512, axpyRows: axpyRowsAVX512,
			firstAbove: firstAboveAVX512, expSum8: expSum8AVX512, maxNaN: maxNaNAVX512, relu: reluAVX512,
			sums16: sums16AVX512, normalize: normalizeAVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		k := &microKernel{name: "avx2", mr: 6, nr: 16,
			f32: kernel6x16, bf16: kernel6x16bf16, exp: expShiftAVX2, lanes: 8, dot: dotAVX2, axpy: axpyAVX2,
			dots: dotsAVX2, axpyRows: axpyRowsAVX2, firstAbove: firstAboveAVX2, relu: reluAVX2}
		if half.Accelerated(half.F16) { // F16C
			k.f16 = kernel6x16f16
		}
		kernels = append(kernels, k)
	}
}

// kernel6x16 is the AVX2 micro-kernel of a 6×16 tile (see microKernel.f32).
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

// kernel12x32avx512 is the AVX-512 micro-kernel of a 12×32 tile.
//
//go:noescape
func kernel12x32avx512(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

// kernel12x32avx512f16 is kernel12x32avx512 for a B of float16 bits.
//
//go:noescape
func kernel12x32avx512f16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)

// kernel12x32avx512bf16 is kernel12x32avx512 for a B of bfloat16 bits.
//
//go:noescape
func kernel12x32avx512bf16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)

// expShiftAVX512 is ExpShift for n a multiple of 16.
//
//go:noescape
func expShiftAVX512(dst, src *float32, n int, shift float32) (sum float32)

// expSum8AVX512 is ExpSum8 for n a multiple of 16.
//
//go:noescape
func expSum8AVX512(src *float32, n int, shift float32) (sums [8]float64)

// maxNaNAVX512 is MaxNaN for n a multiple of 16.
//
//go:noescape
func maxNaNAVX512(x *float32, n int) (m float32, nan bool)

// dotAVX512 and dotAVX2 are Dot for n a multiple of 16 and 8.
//
//go:noescape
func dotAVX512(x, y *float32, n int) float32

//go:noescape
func dotAVX2(x, y *float32, n int) float32

// axpyAVX512 and axpyAVX2 are Axpy for n a multiple of 16 and 8.
//
//go:noescape
func axpyAVX512(alpha float32, x, y *float32, n int)

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

// dotsAVX512 and dotsAVX2 are Dots, axpyRowsAVX512 and axpyRowsAVX2
// AxpyRows, for n a multiple of 16 and 8.
//
//go:noescape
func dotsAVX512(x, y *float32, stride, n, m int, out *float32)

//go:noescape
func dotsAVX2(x, y *float32, stride, n, m int, out *float32)

//go:noescape
func axpyRowsAVX512(a, x *float32, stride, n, m int, y *float32)

//go:noescape
func axpyRowsAVX2(a, x *float32, stride, n, m int, y *float32)

// firstAboveAVX512 and firstAboveAVX2 are FirstAbove for n a multiple of
// 16 and 8; they return n where no element is above t.
//
//go:noescape
func firstAboveAVX512(x *float32, n int, t float32) int

//go:noescape
func firstAboveAVX2(x *float32, n int, t float32) int

// reluAVX512 and reluAVX2 are ReLU for n a multiple of 16 and 8: VPMAXSD
// of each value's bits, as a signed integer, with 0.
//
//go:noescape
func reluAVX512(dst, src *float32, n int)

//go:noescape
func reluAVX2(dst, src *float32, n int)

// sums16AVX512 is tree16 of sums16 (norm.go) for n a multiple of 16, the
// sums in two ZMM registers of float64s.
//
//go:noescape
func sums16AVX512(x *float32, n int, mean float64, sq bool) float64

// normalizeAVX512 is Normalize for n a multiple of 16.
//
//go:noescape
func normalizeAVX512(x, gamma, beta, y *float32, n int, mean, rstd float64)

// hasBF16 says that the CPU runs VDPBF16PS (AVX512_BF16).
var hasBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16

// kernel12x32bf16pairs adds (or stores, add false) the 12×32 tile of A·B
// for kp pairs of k of packed bfloat16 panels (see serialBF16), with
// VDPBF16PS.
//
//go:noescape
func kernel12x32bf16pairs(kp int, a, b *uint16, c *float32, ldc int, add bool)
