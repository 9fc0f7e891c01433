//go:build !amd64 || purego

package f32

// There is no micro-kernel for this architecture (or the purego build tag is
// set): kernels stays empty and Available reports false.

const hasBF16 = false

func kernel12x32bf16pairs(kp int, a, b *uint16, c *float32, ldc int, add bool) {
	panic("sgemm: no VDPBF16PS kernel here")
}
