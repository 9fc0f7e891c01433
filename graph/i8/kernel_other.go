//go:build !amd64 || purego

package i8

// archKernels is empty: only the scalar kernel here.
func archKernels() []kernel { return nil }

const hasQuantAVX512 = false

func absMaxAVX512(x *float32, n int) float32 { panic("i8: no AVX-512 here") }

func quantizeAVX512(dst *int8, x *float32, n int, inv float32, flip bool) {
	panic("i8: no AVX-512 here")
}
