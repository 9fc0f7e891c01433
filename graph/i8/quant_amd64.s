//go:build !purego

#include "textflag.h"

DATA absMask<>+0(SB)/4, $0x7fffffff
DATA absMask<>+4(SB)/4, $127
DATA absMask<>+8(SB)/4, $-127
DATA absMask<>+12(SB)/4, $0x80808080
GLOBL absMask<>(SB), RODATA|NOPTR, $16

// func absMaxAVX512(x *float32, n int) float32
//
// The largest |x[i]| for n a multiple of 16, compared as integers (the
// order of non-negative floats), so that a NaN, whose bits exceed +Inf's,
// wins as Go's max makes it.
TEXT ·absMaxAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VPBROADCASTD absMask<>+0(SB), Z1
	VPXORD       Z0, Z0, Z0
	SHRQ         $4, CX
	JEQ          done

loop:
	VPANDD  (SI), Z1, Z2
	VPMAXSD Z2, Z0, Z0
	ADDQ    $64, SI
	DECQ    CX
	JNE     loop

done:
	VEXTRACTI64X4 $1, Z0, Y1
	VPMAXSD       Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPMAXSD       X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPMAXSD       X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPMAXSD       X1, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+16(FP)
	RET

// func quantizeAVX512(dst *int8, x *float32, n int, inv float32, flip bool)
//
// dst[i] = x[i]·inv rounded to the nearest integer, ties to even
// (VCVTPS2DQ), clamped to [−127, 127]; with flip, +128 as an unsigned byte
// (the top bit flipped). n is a multiple of 16.
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-29
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Z0
	VPBROADCASTD absMask<>+4(SB), Z1
	VPBROADCASTD absMask<>+8(SB), Z2
	VPXORD       X3, X3, X3
	MOVBQZX      flip+28(FP), AX
	TESTQ        AX, AX
	JEQ          start
	VPBROADCASTD absMask<>+12(SB), X3

start:
	SHRQ $4, CX
	JEQ  done

loop:
	VMULPS     (SI), Z0, Z4
	VCVTPS2DQ  Z4, Z4
	VPMINSD    Z1, Z4, Z4
	VPMAXSD    Z2, Z4, Z4
	VPMOVSDB   Z4, X4
	VPXORD     X3, X4, X4
	VMOVDQU    X4, (DI)
	ADDQ       $64, SI
	ADDQ       $16, DI
	DECQ       CX
	JNE        loop

done:
	VZEROUPPER
	RET
