//go:build !purego

package i8

import "golang.org/x/sys/cpu"

// archKernels lists the amd64 kernels this processor runs, fastest first.
func archKernels() (ks []kernel) {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		ks = append(ks, kernel{name: "vnni", unsigned: true, tile: func(k4 int, x []int8, ldx int, w []int8, acc *[tileRows * blockCols]int32) {
			dot4x64VNNI(k4, &x[0], ldx, &w[0], &acc[0])
		}, scaled: func(k4 int, x []int8, ldx int, w []int8, e *epilogue) {
			dot4x64VNNIScale(k4, &x[0], ldx, &w[0], e)
		}})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, kernel{name: "avx2", tile: func(k4 int, x []int8, ldx int, w []int8, acc *[tileRows * blockCols]int32) {
			for g := 0; g < blockCols; g += 16 {
				dot4x16AVX2(k4, &x[0], ldx, &w[g*4], &acc[g])
			}
		}})
	}
	return ks
}

// dot4x64VNNI sums 4 rows of unsigned bytes by a packed 64-column block.
//
//go:noescape
func dot4x64VNNI(k4 int, x *int8, ldx int, w *int8, acc *int32)

// dot4x64VNNIScale is dot4x64VNNI with the scaling to float32 fused.
//
//go:noescape
func dot4x64VNNIScale(k4 int, x *int8, ldx int, w *int8, e *epilogue)

// dot4x16AVX2 sums 4 rows of signed bytes by 16 columns of a packed block.
//
//go:noescape
func dot4x16AVX2(k4 int, x *int8, ldx int, w *int8, acc *int32)

// hasQuantAVX512 says that quantizeRows may use the AVX-512 loops below.
var hasQuantAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL

// absMaxAVX512 is the largest |x[i]|, n a multiple of 16.
//
//go:noescape
func absMaxAVX512(x *float32, n int) float32

// quantizeAVX512 rounds x[i]·inv to int8 (see quantizeRows), n a multiple
// of 16.
//
//go:noescape
func quantizeAVX512(dst *int8, x *float32, n int, inv float32, flip bool)
