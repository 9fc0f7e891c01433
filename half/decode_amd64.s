//go:build !purego

#include "textflag.h"

// func cpuid1ECX() uint32
TEXT ·cpuid1ECX(SB), NOSPLIT, $0-4
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET

// func decodeF16C(dst *float32, src *uint16, n int)
TEXT ·decodeF16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
loop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
done:
	VZEROUPPER
	RET

// func decodeBF16AVX2(dst *float32, src *uint16, n int)
TEXT ·decodeBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
loop:
	VPMOVZXWD (SI), Y0
	VPSLLD    $16, Y0, Y0
	VMOVDQU   Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
done:
	VZEROUPPER
	RET

// func roundF16C(dst, src *float32, n int)
TEXT ·roundF16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
loop:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, X1 // round to nearest even
	VCVTPH2PS X1, Y1
	VMOVUPS   Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
done:
	VZEROUPPER
	RET

// func roundBF16AVX2(dst, src *float32, n int)
// Each value v becomes (bits(v) + 0x7fff + bit 16 of v) with the low 16
// bits cleared (to nearest even), NaNs 0x7fc00000, as BFloat16FromFloat32.
TEXT ·roundBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL $0x7fff, AX
	VMOVD AX, X2
	VPBROADCASTD X2, Y2          // rounding bias
	MOVL $1, AX
	VMOVD AX, X3
	VPBROADCASTD X3, Y3          // bit 0
	MOVL $0xffff0000, AX
	VMOVD AX, X4
	VPBROADCASTD X4, Y4          // high half
	MOVL $0x7fffffff, AX
	VMOVD AX, X5
	VPBROADCASTD X5, Y5          // magnitude
	MOVL $0x7f800000, AX
	VMOVD AX, X6
	VPBROADCASTD X6, Y6          // infinity
	MOVL $0x7fc00000, AX
	VMOVD AX, X8
	VPBROADCASTD X8, Y8          // quiet NaN
	SHRQ $3, CX
	JZ   done
loop:
	VMOVDQU   (SI), Y0
	VPSRLD    $16, Y0, Y1
	VPAND     Y3, Y1, Y1
	VPADDD    Y2, Y1, Y1
	VPADDD    Y0, Y1, Y1
	VPAND     Y4, Y1, Y1
	VPAND     Y5, Y0, Y7
	VPCMPGTD  Y6, Y7, Y7         // |v| > Inf: NaN
	VPBLENDVB Y7, Y8, Y1, Y1
	VMOVDQU   Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
done:
	VZEROUPPER
	RET
