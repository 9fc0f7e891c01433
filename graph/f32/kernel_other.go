//go:build !amd64 || purego

package f32

// There is no micro-kernel for this architecture (or the purego build tag is
// set): kernels stays empty and Available reports false.
