//go:build !purego

package i8

import "golang.org/x/sys/cpu"

// archKernels lists the amd64 kernels this processor runs, fastest first.
func archKernels() (ks []kernel) {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		ks = append(ks, kernel{name: "vnni", unsigned: true, tile: func(k4 int, x []int8, ldx int, w []int8, acc *[tileRows * blockCols]int32) {
			dot4x64VNNI(k4, &x[0], ldx, &w[0], &acc[0])
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

// dot4x16AVX2 sums 4 rows of signed bytes by 16 columns of a packed block.
//
//go:noescape
func dot4x16AVX2(k4 int, x *int8, ldx int, w *int8, acc *int32)
