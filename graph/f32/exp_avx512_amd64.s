//go:build !purego

#include "textflag.h"

// The constants of Exp, one copy each: the AVX-512 loop broadcasts them
// into registers Z16–Z29 before it starts.
DATA exp512<>+0(SB)/4, $0xc2aeac4f  // lowest argument with a normal result
DATA exp512<>+4(SB)/4, $0x42b0999a  // highest argument clamped to
DATA exp512<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA exp512<>+12(SB)/4, $0x3f000000 // 0.5
DATA exp512<>+16(SB)/4, $0x3f318000 // c1
DATA exp512<>+20(SB)/4, $0xb95e8083 // c2
DATA exp512<>+24(SB)/4, $0x39506967 // p0
DATA exp512<>+28(SB)/4, $0x3ab743ce // p1
DATA exp512<>+32(SB)/4, $0x3c088908 // p2
DATA exp512<>+36(SB)/4, $0x3d2aa9c1 // p3
DATA exp512<>+40(SB)/4, $0x3e2aaaaa // p4
DATA exp512<>+44(SB)/4, $0x3f000000 // p5
DATA exp512<>+48(SB)/4, $0x3f800000 // 1
DATA exp512<>+52(SB)/4, $127        // the exponent bias
GLOBL exp512<>(SB), RODATA|NOPTR, $56

// EXP512_CONSTANTS broadcasts the constants into Z16–Z29 (clobbers AX).
#define EXP512_CONSTANTS \
	LEAQ         exp512<>(SB), AX \
	VBROADCASTSS (AX), Z16 \
	VBROADCASTSS 4(AX), Z17 \
	VBROADCASTSS 8(AX), Z18 \
	VBROADCASTSS 12(AX), Z19 \
	VBROADCASTSS 16(AX), Z20 \
	VBROADCASTSS 20(AX), Z21 \
	VBROADCASTSS 24(AX), Z22 \
	VBROADCASTSS 28(AX), Z23 \
	VBROADCASTSS 32(AX), Z24 \
	VBROADCASTSS 36(AX), Z25 \
	VBROADCASTSS 40(AX), Z26 \
	VBROADCASTSS 44(AX), Z27 \
	VBROADCASTSS 48(AX), Z28 \
	VPBROADCASTD 52(AX), Z29

// EXP512 sets Z3 to e^(Z0 − Z15), lanes below the normal range 0 (clobbers
// Z0–Z2, Z4, Z5 and K1).
#define EXP512 \
	VSUBPS       Z15, Z0, Z0 \
	VCMPPS       $13, Z16, Z0, K1 \
	VMAXPS       Z16, Z0, Z1 \
	VMINPS       Z17, Z1, Z1 \
	VMULPS       Z18, Z1, Z2 \
	VADDPS       Z19, Z2, Z2 \
	VRNDSCALEPS  $1, Z2, Z2 \
	VFNMADD231PS Z20, Z2, Z1 \
	VFNMADD231PS Z21, Z2, Z1 \
	VMOVAPS      Z22, Z3 \
	VFMADD213PS  Z23, Z1, Z3 \
	VFMADD213PS  Z24, Z1, Z3 \
	VFMADD213PS  Z25, Z1, Z3 \
	VFMADD213PS  Z26, Z1, Z3 \
	VFMADD213PS  Z27, Z1, Z3 \
	VMULPS       Z1, Z1, Z4 \
	VFMADD213PS  Z1, Z4, Z3 \
	VADDPS       Z28, Z3, Z3 \
	VCVTTPS2DQ   Z2, Z5 \
	VPADDD       Z29, Z5, Z5 \
	VPSLLD       $23, Z5, Z5 \
	VMULPS.Z     Z5, Z3, K1, Z3

// func expShiftAVX512(dst, src *float32, n int, shift float32) (sum float32)
//
// expShiftAVX512 is expShiftAVX2 sixteen lanes at a time (n a multiple of
// 16), with the same operations in the same order, so both give the same
// values (their sums differ in rounding only).
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS shift+24(FP), Z15
	VPXORD       Z14, Z14, Z14
	EXP512_CONSTANTS
	SHRQ         $4, CX
	JEQ          done

loop:
	VMOVUPS      (SI), Z0
	EXP512
	VMOVUPS      Z3, (DI)
	VADDPS       Z3, Z14, Z14
	ADDQ         $64, SI
	ADDQ         $64, DI
	DECQ         CX
	JNE          loop

done:
	VEXTRACTF64X4 $1, Z14, Y0
	VADDPS        Y0, Y14, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VZEROUPPER
	MOVSS         X0, sum+32(FP)
	RET

// func expSum8AVX512(src *float32, n int, shift float32) (sums [8]float64)
//
// Sums e^(src[i] − shift), the values of expShiftAVX512, converted to
// float64, into sums[i mod 8] in increasing i (n a multiple of 16): the low
// eight lanes of each block, then the high eight, into one accumulator.
TEXT ·expSum8AVX512(SB), NOSPLIT, $0-88
	MOVQ         src+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS shift+16(FP), Z15
	VPXORQ       Z14, Z14, Z14
	EXP512_CONSTANTS
	SHRQ         $4, CX
	JEQ          sdone

sloop:
	VMOVUPS       (SI), Z0
	EXP512
	VCVTPS2PD     Y3, Z6
	VEXTRACTF64X4 $1, Z3, Y7 // the high eight lanes (AVX-512 F, as the rest)
	VCVTPS2PD     Y7, Z7
	VADDPD        Z6, Z14, Z14
	VADDPD        Z7, Z14, Z14
	ADDQ          $64, SI
	DECQ          CX
	JNE           sloop

sdone:
	LEAQ    sums+24(FP), DI
	VMOVUPD Z14, (DI)
	VZEROUPPER
	RET

// func maxNaNAVX512(x *float32, n int) (m float32, nan bool)
//
// The largest x[i] that is not a NaN (−Inf for none), and whether some x[i]
// is a NaN, for n a multiple of 16.
TEXT ·maxNaNAVX512(SB), NOSPLIT, $0-21
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX
	VPBROADCASTD AX, Z0
	KXORW        K2, K2, K2
	SHRQ         $4, CX
	JEQ          mdone

mloop:
	VMOVUPS (SI), Z2
	VMAXPS  Z0, Z2, Z0      // x > m ? x : m (a NaN x keeps m)
	VCMPPS  $3, Z2, Z2, K1  // unordered: the NaN lanes
	KORW    K1, K2, K2
	ADDQ    $64, SI
	DECQ    CX
	JNE     mloop

mdone:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	MOVSS         X0, m+16(FP)
	KORTESTW      K2, K2
	SETNE         nan+20(FP)
	VZEROUPPER
	RET
