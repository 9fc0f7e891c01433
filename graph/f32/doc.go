// Package f32 holds the float32 kernels that dominate a training step on a
// CPU, written in Go assembly for AVX-512 and for AVX2 with FMA, so that the
// default build needs no C library. The fastest kernel the processor runs is
// chosen at start (Kernels, UseKernel):
//
//   - Sgemm: C = alpha·op(A)·op(B) + beta·C on row-major matrices, with the
//     blocking and packing of GotoBLAS around a 12×32 (AVX-512) or 6×16
//     (AVX2) micro-kernel, and C's rows (or columns) split across
//     goroutines. Gonum's pure-Go Sgemm reaches about 7–10 GFLOP/s a core
//     on this project's machines; this one is on a par with OpenBLAS with
//     AVX2, and faster with AVX-512.
//   - ExpShift: e^(x − shift) over a softmax row, 16 or 8 lanes at a time,
//     about 20× faster than math.Exp element by element.
//   - Exp: a scalar float32 exponential within 1 ulp.
//   - Dot and Axpy: the vector loops of attention over a key/value cache.
//
// On processors without AVX2 and FMA, on other architectures, with the
// purego build tag and after UseKernel(Pure), Available is false: the
// graph package keeps gonum's Sgemm, and ExpShift, Dot and Axpy run plain
// loops.
package f32
