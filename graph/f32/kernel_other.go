//go:build !amd64 || purego

package f32

// hasKernel is false: there is no micro-kernel for this architecture (or the
// purego build tag is set), and Available reports false.
const hasKernel = false

func kernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, add bool) {
	panic("sgemm: no micro-kernel on this architecture")
}

func expShiftAVX2(dst, src *float32, n int, shift float32) float32 {
	panic("f32: no AVX2 kernel on this architecture")
}

func kernel6x16f16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool) {
	panic("sgemm: no micro-kernel on this architecture")
}

func kernel6x16bf16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool) {
	panic("sgemm: no micro-kernel on this architecture")
}
