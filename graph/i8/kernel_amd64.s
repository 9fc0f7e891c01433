//go:build !purego

#include "textflag.h"

// ZERO16 clears the accumulators Z16–Z31.
#define ZERO16 \
	VPXORD Z16, Z16, Z16 \
	VPXORD Z17, Z17, Z17 \
	VPXORD Z18, Z18, Z18 \
	VPXORD Z19, Z19, Z19 \
	VPXORD Z20, Z20, Z20 \
	VPXORD Z21, Z21, Z21 \
	VPXORD Z22, Z22, Z22 \
	VPXORD Z23, Z23, Z23 \
	VPXORD Z24, Z24, Z24 \
	VPXORD Z25, Z25, Z25 \
	VPXORD Z26, Z26, Z26 \
	VPXORD Z27, Z27, Z27 \
	VPXORD Z28, Z28, Z28 \
	VPXORD Z29, Z29, Z29 \
	VPXORD Z30, Z30, Z30 \
	VPXORD Z31, Z31, Z31

// VNNISTEP does one group of four p: the block's 256 bytes at DI against
// the four rows' four bytes at SI, R10, R11, R12, 16 VPDPBUSD into Z16–Z31,
// then advances the pointers and counts CX down (flags set for JNE).
#define VNNISTEP \
	VMOVDQU32    (DI), Z0 \
	VMOVDQU32    64(DI), Z1 \
	VMOVDQU32    128(DI), Z2 \
	VMOVDQU32    192(DI), Z3 \
	VPBROADCASTD (SI), Z4 \
	VPBROADCASTD (R10), Z5 \
	VPBROADCASTD (R11), Z6 \
	VPBROADCASTD (R12), Z7 \
	VPDPBUSD     Z0, Z4, Z16 \
	VPDPBUSD     Z1, Z4, Z17 \
	VPDPBUSD     Z2, Z4, Z18 \
	VPDPBUSD     Z3, Z4, Z19 \
	VPDPBUSD     Z0, Z5, Z20 \
	VPDPBUSD     Z1, Z5, Z21 \
	VPDPBUSD     Z2, Z5, Z22 \
	VPDPBUSD     Z3, Z5, Z23 \
	VPDPBUSD     Z0, Z6, Z24 \
	VPDPBUSD     Z1, Z6, Z25 \
	VPDPBUSD     Z2, Z6, Z26 \
	VPDPBUSD     Z3, Z6, Z27 \
	VPDPBUSD     Z0, Z7, Z28 \
	VPDPBUSD     Z1, Z7, Z29 \
	VPDPBUSD     Z2, Z7, Z30 \
	VPDPBUSD     Z3, Z7, Z31 \
	ADDQ         $4, SI \
	ADDQ         $4, R10 \
	ADDQ         $4, R11 \
	ADDQ         $4, R12 \
	ADDQ         $256, DI \
	DECQ         CX

// func dot4x64VNNI(k4 int, x *uint8, ldx int, w *int8, acc *int32)
//
// acc[r·64 + c] = Σ_p x[r·ldx + p] · w(p, c) for 4 rows of unsigned bytes
// x and one packed 64-column block w (k4 a multiple of 4; for each group of
// four p, 64 columns × 4 signed bytes). Sixteen ZMM accumulators, Z16–Z31
// (row r, columns 16g…16g+15 in Z(16+4r+g)); each group of four p loads
// the block's 256 bytes once and issues 16 VPDPBUSD.
TEXT ·dot4x64VNNI(SB), NOSPLIT, $0-40
	MOVQ k4+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ ldx+16(FP), R9
	MOVQ w+24(FP), DI
	MOVQ acc+32(FP), DX
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12

	ZERO16

	SHRQ $2, CX
	JEQ  store

loop:
	VNNISTEP
	JNE loop

store:
	VMOVDQU32 Z16, (DX)
	VMOVDQU32 Z17, 64(DX)
	VMOVDQU32 Z18, 128(DX)
	VMOVDQU32 Z19, 192(DX)
	VMOVDQU32 Z20, 256(DX)
	VMOVDQU32 Z21, 320(DX)
	VMOVDQU32 Z22, 384(DX)
	VMOVDQU32 Z23, 448(DX)
	VMOVDQU32 Z24, 512(DX)
	VMOVDQU32 Z25, 576(DX)
	VMOVDQU32 Z26, 640(DX)
	VMOVDQU32 Z27, 704(DX)
	VMOVDQU32 Z28, 768(DX)
	VMOVDQU32 Z29, 832(DX)
	VMOVDQU32 Z30, 896(DX)
	VMOVDQU32 Z31, 960(DX)
	VZEROUPPER
	RET

// ONESCALE turns one accumulator A of 16 columns into floats and stores
// them at OFF(DX): (float32(A + CORR) · Z12) · SCALE + BIAS.
#define ONESCALE(A, CORR, SCALE, BIAS, OFF) \
	VPADDD    CORR, A, A \
	VCVTDQ2PS A, A \
	VMULPS    Z12, A, A \
	VMULPS    SCALE, A, A \
	VADDPS    BIAS, A, A \
	VMOVUPS   A, OFF(DX)

// ROWSCALE stores one row of the tile: its scale xs[r] is at XOFF(R10).
#define ROWSCALE(XOFF, A0, A1, A2, A3) \
	VBROADCASTSS XOFF(R10), Z12 \
	ONESCALE(A0, Z0, Z4, Z8, 0) \
	ONESCALE(A1, Z1, Z5, Z9, 64) \
	ONESCALE(A2, Z2, Z6, Z10, 128) \
	ONESCALE(A3, Z3, Z7, Z11, 192)

// func dot4x64VNNIScale(k4 int, x *uint8, ldx int, w *int8, e *epilogue)
//
// dot4x64VNNI with the scaling fused: for each of the 4 rows r and 64
// columns c it stores float32(acc + e.corr[c]) · e.xs[r] · e.scale[c] +
// e.bias[c] at e.c + r·e.ldc (floats), in the order of blocks' Go code, so
// that both give the same bits.
TEXT ·dot4x64VNNIScale(SB), NOSPLIT, $0-40
	MOVQ k4+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ ldx+16(FP), R9
	MOVQ w+24(FP), DI
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12

	ZERO16

	SHRQ $2, CX
	JEQ  scale

loop:
	VNNISTEP
	JNE loop

scale:
	MOVQ e+32(FP), AX
	MOVQ 0(AX), BX   // corr
	MOVQ 8(AX), R8   // scale
	MOVQ 16(AX), R9  // bias
	MOVQ 24(AX), R10 // xs
	MOVQ 32(AX), DX  // c
	MOVQ 40(AX), R11 // ldc
	SHLQ $2, R11
	VMOVDQU32 (BX), Z0
	VMOVDQU32 64(BX), Z1
	VMOVDQU32 128(BX), Z2
	VMOVDQU32 192(BX), Z3
	VMOVUPS   (R8), Z4
	VMOVUPS   64(R8), Z5
	VMOVUPS   128(R8), Z6
	VMOVUPS   192(R8), Z7
	VMOVUPS   (R9), Z8
	VMOVUPS   64(R9), Z9
	VMOVUPS   128(R9), Z10
	VMOVUPS   192(R9), Z11
	ROWSCALE(0, Z16, Z17, Z18, Z19)
	ADDQ R11, DX
	ROWSCALE(4, Z20, Z21, Z22, Z23)
	ADDQ R11, DX
	ROWSCALE(8, Z24, Z25, Z26, Z27)
	ADDQ R11, DX
	ROWSCALE(12, Z28, Z29, Z30, Z31)
	VZEROUPPER
	RET

// ROWAVX2 adds one row's four products a column to ACC0 (columns 0–7) and
// ACC1 (8–15): the row's four bytes at (PTR) broadcast, their signs moved
// onto the block's bytes in Y0, Y1, their absolute values multiplied in
// pairs (VPMADDUBSW, at most 2·127·127, so no saturation), the pairs summed
// to 32 bits (VPMADDWD by ones in Y7).
#define ROWAVX2(PTR, ACC0, ACC1) \
	VPBROADCASTD (PTR), Y2 \
	VPSIGNB      Y2, Y0, Y3 \
	VPSIGNB      Y2, Y1, Y4 \
	VPABSB       Y2, Y2 \
	VPMADDUBSW   Y3, Y2, Y3 \
	VPMADDUBSW   Y4, Y2, Y4 \
	VPMADDWD     Y7, Y3, Y3 \
	VPMADDWD     Y7, Y4, Y4 \
	VPADDD       Y3, ACC0, ACC0 \
	VPADDD       Y4, ACC1, ACC1

// func dot4x16AVX2(k4 int, x *int8, ldx int, w *int8, acc *int32)
//
// dot4x64VNNI for signed bytes x and 16 columns of a block (w points at the
// block plus 64 bytes per 16 columns; groups of four p are 256 bytes
// apart); acc rows are 64 int32 apart, as for dot4x64VNNI.
TEXT ·dot4x16AVX2(SB), NOSPLIT, $0-40
	MOVQ k4+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ ldx+16(FP), R9
	MOVQ w+24(FP), DI
	MOVQ acc+32(FP), DX
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12

	VPCMPEQW Y7, Y7, Y7
	VPSRLW   $15, Y7, Y7
	VPXOR    Y8, Y8, Y8
	VPXOR    Y9, Y9, Y9
	VPXOR    Y10, Y10, Y10
	VPXOR    Y11, Y11, Y11
	VPXOR    Y12, Y12, Y12
	VPXOR    Y13, Y13, Y13
	VPXOR    Y14, Y14, Y14
	VPXOR    Y15, Y15, Y15

	SHRQ $2, CX
	JEQ  store

loop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	ROWAVX2(SI, Y8, Y9)
	ROWAVX2(R10, Y10, Y11)
	ROWAVX2(R11, Y12, Y13)
	ROWAVX2(R12, Y14, Y15)
	ADDQ $4, SI
	ADDQ $4, R10
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $256, DI
	DECQ CX
	JNE  loop

store:
	VMOVDQU Y8, (DX)
	VMOVDQU Y9, 32(DX)
	VMOVDQU Y10, 256(DX)
	VMOVDQU Y11, 288(DX)
	VMOVDQU Y12, 512(DX)
	VMOVDQU Y13, 544(DX)
	VMOVDQU Y14, 768(DX)
	VMOVDQU Y15, 800(DX)
	VZEROUPPER
	RET
