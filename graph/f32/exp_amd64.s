//go:build !purego

#include "textflag.h"

// Constants of Exp, eight copies each (one YMM register).
DATA expLo<>+0(SB)/4, $0xc2aeac4f
DATA expLo<>+4(SB)/4, $0xc2aeac4f
DATA expLo<>+8(SB)/4, $0xc2aeac4f
DATA expLo<>+12(SB)/4, $0xc2aeac4f
DATA expLo<>+16(SB)/4, $0xc2aeac4f
DATA expLo<>+20(SB)/4, $0xc2aeac4f
DATA expLo<>+24(SB)/4, $0xc2aeac4f
DATA expLo<>+28(SB)/4, $0xc2aeac4f
GLOBL expLo<>(SB), RODATA|NOPTR, $32

DATA expHi<>+0(SB)/4, $0x42b0999a
DATA expHi<>+4(SB)/4, $0x42b0999a
DATA expHi<>+8(SB)/4, $0x42b0999a
DATA expHi<>+12(SB)/4, $0x42b0999a
DATA expHi<>+16(SB)/4, $0x42b0999a
DATA expHi<>+20(SB)/4, $0x42b0999a
DATA expHi<>+24(SB)/4, $0x42b0999a
DATA expHi<>+28(SB)/4, $0x42b0999a
GLOBL expHi<>(SB), RODATA|NOPTR, $32

DATA expLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL expLog2e<>(SB), RODATA|NOPTR, $32

DATA expHalf<>+0(SB)/4, $0x3f000000
DATA expHalf<>+4(SB)/4, $0x3f000000
DATA expHalf<>+8(SB)/4, $0x3f000000
DATA expHalf<>+12(SB)/4, $0x3f000000
DATA expHalf<>+16(SB)/4, $0x3f000000
DATA expHalf<>+20(SB)/4, $0x3f000000
DATA expHalf<>+24(SB)/4, $0x3f000000
DATA expHalf<>+28(SB)/4, $0x3f000000
GLOBL expHalf<>(SB), RODATA|NOPTR, $32

DATA expC1<>+0(SB)/4, $0x3f318000
DATA expC1<>+4(SB)/4, $0x3f318000
DATA expC1<>+8(SB)/4, $0x3f318000
DATA expC1<>+12(SB)/4, $0x3f318000
DATA expC1<>+16(SB)/4, $0x3f318000
DATA expC1<>+20(SB)/4, $0x3f318000
DATA expC1<>+24(SB)/4, $0x3f318000
DATA expC1<>+28(SB)/4, $0x3f318000
GLOBL expC1<>(SB), RODATA|NOPTR, $32

DATA expC2<>+0(SB)/4, $0xb95e8083
DATA expC2<>+4(SB)/4, $0xb95e8083
DATA expC2<>+8(SB)/4, $0xb95e8083
DATA expC2<>+12(SB)/4, $0xb95e8083
DATA expC2<>+16(SB)/4, $0xb95e8083
DATA expC2<>+20(SB)/4, $0xb95e8083
DATA expC2<>+24(SB)/4, $0xb95e8083
DATA expC2<>+28(SB)/4, $0xb95e8083
GLOBL expC2<>(SB), RODATA|NOPTR, $32

DATA expP0<>+0(SB)/4, $0x39506967
DATA expP0<>+4(SB)/4, $0x39506967
DATA expP0<>+8(SB)/4, $0x39506967
DATA expP0<>+12(SB)/4, $0x39506967
DATA expP0<>+16(SB)/4, $0x39506967
DATA expP0<>+20(SB)/4, $0x39506967
DATA expP0<>+24(SB)/4, $0x39506967
DATA expP0<>+28(SB)/4, $0x39506967
GLOBL expP0<>(SB), RODATA|NOPTR, $32

DATA expP1<>+0(SB)/4, $0x3ab743ce
DATA expP1<>+4(SB)/4, $0x3ab743ce
DATA expP1<>+8(SB)/4, $0x3ab743ce
DATA expP1<>+12(SB)/4, $0x3ab743ce
DATA expP1<>+16(SB)/4, $0x3ab743ce
DATA expP1<>+20(SB)/4, $0x3ab743ce
DATA expP1<>+24(SB)/4, $0x3ab743ce
DATA expP1<>+28(SB)/4, $0x3ab743ce
GLOBL expP1<>(SB), RODATA|NOPTR, $32

DATA expP2<>+0(SB)/4, $0x3c088908
DATA expP2<>+4(SB)/4, $0x3c088908
DATA expP2<>+8(SB)/4, $0x3c088908
DATA expP2<>+12(SB)/4, $0x3c088908
DATA expP2<>+16(SB)/4, $0x3c088908
DATA expP2<>+20(SB)/4, $0x3c088908
DATA expP2<>+24(SB)/4, $0x3c088908
DATA expP2<>+28(SB)/4, $0x3c088908
GLOBL expP2<>(SB), RODATA|NOPTR, $32

DATA expP3<>+0(SB)/4, $0x3d2aa9c1
DATA expP3<>+4(SB)/4, $0x3d2aa9c1
DATA expP3<>+8(SB)/4, $0x3d2aa9c1
DATA expP3<>+12(SB)/4, $0x3d2aa9c1
DATA expP3<>+16(SB)/4, $0x3d2aa9c1
DATA expP3<>+20(SB)/4, $0x3d2aa9c1
DATA expP3<>+24(SB)/4, $0x3d2aa9c1
DATA expP3<>+28(SB)/4, $0x3d2aa9c1
GLOBL expP3<>(SB), RODATA|NOPTR, $32

DATA expP4<>+0(SB)/4, $0x3e2aaaaa
DATA expP4<>+4(SB)/4, $0x3e2aaaaa
DATA expP4<>+8(SB)/4, $0x3e2aaaaa
DATA expP4<>+12(SB)/4, $0x3e2aaaaa
DATA expP4<>+16(SB)/4, $0x3e2aaaaa
DATA expP4<>+20(SB)/4, $0x3e2aaaaa
DATA expP4<>+24(SB)/4, $0x3e2aaaaa
DATA expP4<>+28(SB)/4, $0x3e2aaaaa
GLOBL expP4<>(SB), RODATA|NOPTR, $32

DATA expP5<>+0(SB)/4, $0x3f000000
DATA expP5<>+4(SB)/4, $0x3f000000
DATA expP5<>+8(SB)/4, $0x3f000000
DATA expP5<>+12(SB)/4, $0x3f000000
DATA expP5<>+16(SB)/4, $0x3f000000
DATA expP5<>+20(SB)/4, $0x3f000000
DATA expP5<>+24(SB)/4, $0x3f000000
DATA expP5<>+28(SB)/4, $0x3f000000
GLOBL expP5<>(SB), RODATA|NOPTR, $32

DATA expOne<>+0(SB)/4, $0x3f800000
DATA expOne<>+4(SB)/4, $0x3f800000
DATA expOne<>+8(SB)/4, $0x3f800000
DATA expOne<>+12(SB)/4, $0x3f800000
DATA expOne<>+16(SB)/4, $0x3f800000
DATA expOne<>+20(SB)/4, $0x3f800000
DATA expOne<>+24(SB)/4, $0x3f800000
DATA expOne<>+28(SB)/4, $0x3f800000
GLOBL expOne<>(SB), RODATA|NOPTR, $32

DATA exp127<>+0(SB)/4, $127
DATA exp127<>+4(SB)/4, $127
DATA exp127<>+8(SB)/4, $127
DATA exp127<>+12(SB)/4, $127
DATA exp127<>+16(SB)/4, $127
DATA exp127<>+20(SB)/4, $127
DATA exp127<>+24(SB)/4, $127
DATA exp127<>+28(SB)/4, $127
GLOBL exp127<>(SB), RODATA|NOPTR, $32

// func expShiftAVX2(dst, src *float32, n int, shift float32) (sum float32)
//
// dst[i] = e^(src[i] − shift) for n a multiple of 8, eight at a time, by
// Exp's method; results below e^−87.33654 are 0. Returns the sum of dst.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y15
	VXORPS       Y14, Y14, Y14
	SHRQ         $3, CX
	JEQ          done

loop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0
	VCMPPS       $13, expLo<>(SB), Y0, Y7
	VMAXPS       expLo<>(SB), Y0, Y1
	VMINPS       expHi<>(SB), Y1, Y1
	VMULPS       expLog2e<>(SB), Y1, Y2
	VADDPS       expHalf<>(SB), Y2, Y2
	VROUNDPS     $1, Y2, Y2
	VFNMADD231PS expC1<>(SB), Y2, Y1
	VFNMADD231PS expC2<>(SB), Y2, Y1
	VMOVUPS      expP0<>(SB), Y3
	VFMADD213PS  expP1<>(SB), Y1, Y3
	VFMADD213PS  expP2<>(SB), Y1, Y3
	VFMADD213PS  expP3<>(SB), Y1, Y3
	VFMADD213PS  expP4<>(SB), Y1, Y3
	VFMADD213PS  expP5<>(SB), Y1, Y3
	VMULPS       Y1, Y1, Y4
	VFMADD213PS  Y1, Y4, Y3
	VADDPS       expOne<>(SB), Y3, Y3
	VCVTTPS2DQ   Y2, Y5
	VPADDD       exp127<>(SB), Y5, Y5
	VPSLLD       $23, Y5, Y5
	VMULPS       Y5, Y3, Y3
	VANDPS       Y7, Y3, Y3
	VMOVUPS      Y3, (DI)
	VADDPS       Y3, Y14, Y14
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNE          loop

done:
	VEXTRACTF128 $1, Y14, X0
	VADDPS       X0, X14, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, sum+32(FP)
	RET
