//go:build !purego

#include "textflag.h"

// func dotAVX512(x, y *float32, n int) float32
//
// Σ x[i]·y[i] for n a multiple of 16, in two ZMM accumulators.
TEXT ·dotAVX512(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	SHRQ   $4, CX
	JEQ    sum
	TESTQ  $1, CX
	JEQ    pairs
	VMOVUPS     (SI), Z2
	VFMADD231PS (DI), Z2, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JEQ         sum

pairs:
	VMOVUPS     (SI), Z2
	VMOVUPS     64(SI), Z3
	VFMADD231PS (DI), Z2, Z0
	VFMADD231PS 64(DI), Z3, Z1
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $2, CX
	JNE         pairs

sum:
	VADDPS        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+24(FP)
	RET

// func axpyAVX512(alpha float32, x, y *float32, n int)
//
// y[i] += alpha·x[i] for n a multiple of 16.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Z0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	SHRQ         $4, CX
	JEQ          done

loop:
	VMOVUPS     (DI), Z1
	VFMADD231PS (SI), Z0, Z1
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         loop

done:
	VZEROUPPER
	RET

// func dotAVX2(x, y *float32, n int) float32
//
// Σ x[i]·y[i] for n a multiple of 8.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	SHRQ   $3, CX
	JEQ    sum

loop:
	VMOVUPS     (SI), Y2
	VFMADD231PS (DI), Y2, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNE         loop

sum:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func axpyAVX2(alpha float32, x, y *float32, n int)
//
// y[i] += alpha·x[i] for n a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	JEQ          done

loop:
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNE         loop

done:
	VZEROUPPER
	RET

// func dotsAVX512(x, y *float32, stride, n, m int, out *float32)
//
// out[j] = dotAVX512(x, y + j·stride, n) for j < m: each the same sums in
// the same order, for n a multiple of 16.
TEXT ·dotsAVX512(SB), NOSPLIT, $0-48
	MOVQ  x+0(FP), SI
	MOVQ  y+8(FP), DI
	MOVQ  stride+16(FP), R8
	SHLQ  $2, R8
	MOVQ  n+24(FP), R9
	SHRQ  $4, R9
	MOVQ  m+32(FP), R10
	MOVQ  out+40(FP), R11
	TESTQ R10, R10
	JEQ   dotsdone

dotskey:
	MOVQ   SI, AX
	MOVQ   DI, BX
	MOVQ   R9, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	TESTQ  CX, CX
	JEQ    dotssum
	TESTQ  $1, CX
	JEQ    dotspairs
	VMOVUPS     (AX), Z2
	VFMADD231PS (BX), Z2, Z0
	ADDQ        $64, AX
	ADDQ        $64, BX
	DECQ        CX
	JEQ         dotssum

dotspairs:
	VMOVUPS     (AX), Z2
	VMOVUPS     64(AX), Z3
	VFMADD231PS (BX), Z2, Z0
	VFMADD231PS 64(BX), Z3, Z1
	ADDQ        $128, AX
	ADDQ        $128, BX
	SUBQ        $2, CX
	JNE         dotspairs

dotssum:
	VADDPS        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	MOVSS         X0, (R11)
	ADDQ          $4, R11
	ADDQ          R8, DI
	DECQ          R10
	JNE           dotskey

dotsdone:
	VZEROUPPER
	RET

// func axpyRowsAVX512(a, x *float32, stride, n, m int, y *float32)
//
// y[i] += a[j]·x[j·stride + i] for j = 0 … m−1 in turn, for n a multiple of
// 16: each element gets axpyAVX512's fused multiply-adds in the same order,
// with up to 64 elements of y held in registers across the rows (four
// registers, then two, then one: each register's sums are a chain of
// dependent multiply-adds, so several side by side keep the unit busy).
TEXT ·axpyRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ  a+0(FP), SI
	MOVQ  x+8(FP), DI
	MOVQ  stride+16(FP), R8
	SHLQ  $2, R8
	MOVQ  n+24(FP), R9
	SHRQ  $4, R9
	MOVQ  m+32(FP), R10
	MOVQ  y+40(FP), R11
	TESTQ R10, R10
	JEQ   rowsdone

rowsquad:
	CMPQ    R9, $4
	JLT     rowspair
	VMOVUPS (R11), Z4
	VMOVUPS 64(R11), Z5
	VMOVUPS 128(R11), Z6
	VMOVUPS 192(R11), Z7
	MOVQ    SI, AX
	MOVQ    DI, BX
	MOVQ    R10, CX

rowsquadkey:
	VBROADCASTSS (AX), Z0
	VFMADD231PS  (BX), Z0, Z4
	VFMADD231PS  64(BX), Z0, Z5
	VFMADD231PS  128(BX), Z0, Z6
	VFMADD231PS  192(BX), Z0, Z7
	ADDQ         $4, AX
	ADDQ         R8, BX
	DECQ         CX
	JNE          rowsquadkey
	VMOVUPS      Z4, (R11)
	VMOVUPS      Z5, 64(R11)
	VMOVUPS      Z6, 128(R11)
	VMOVUPS      Z7, 192(R11)
	ADDQ         $256, R11
	ADDQ         $256, DI
	SUBQ         $4, R9
	JMP          rowsquad

rowspair:
	CMPQ    R9, $2
	JLT     rowssingle
	VMOVUPS (R11), Z4
	VMOVUPS 64(R11), Z5
	MOVQ    SI, AX
	MOVQ    DI, BX
	MOVQ    R10, CX

rowspairkey:
	VBROADCASTSS (AX), Z0
	VFMADD231PS  (BX), Z0, Z4
	VFMADD231PS  64(BX), Z0, Z5
	ADDQ         $4, AX
	ADDQ         R8, BX
	DECQ         CX
	JNE          rowspairkey
	VMOVUPS      Z4, (R11)
	VMOVUPS      Z5, 64(R11)
	ADDQ         $128, R11
	ADDQ         $128, DI
	SUBQ         $2, R9

rowssingle:
	TESTQ   R9, R9
	JEQ     rowsdone
	VMOVUPS (R11), Z4
	MOVQ    SI, AX
	MOVQ    DI, BX
	MOVQ    R10, CX

rowssinglekey:
	VBROADCASTSS (AX), Z0
	VFMADD231PS  (BX), Z0, Z4
	ADDQ         $4, AX
	ADDQ         R8, BX
	DECQ         CX
	JNE          rowssinglekey
	VMOVUPS      Z4, (R11)
	ADDQ         $64, R11
	ADDQ         $64, DI
	DECQ         R9
	JMP          rowssingle

rowsdone:
	VZEROUPPER
	RET

// func dotsAVX2(x, y *float32, stride, n, m int, out *float32)
//
// out[j] = dotAVX2(x, y + j·stride, n) for j < m, for n a multiple of 8.
TEXT ·dotsAVX2(SB), NOSPLIT, $0-48
	MOVQ  x+0(FP), SI
	MOVQ  y+8(FP), DI
	MOVQ  stride+16(FP), R8
	SHLQ  $2, R8
	MOVQ  n+24(FP), R9
	SHRQ  $3, R9
	MOVQ  m+32(FP), R10
	MOVQ  out+40(FP), R11
	TESTQ R10, R10
	JEQ   dots2done

dots2key:
	MOVQ   SI, AX
	MOVQ   DI, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	TESTQ  CX, CX
	JEQ    dots2sum

dots2loop:
	VMOVUPS     (AX), Y2
	VFMADD231PS (BX), Y2, Y0
	ADDQ        $32, AX
	ADDQ        $32, BX
	DECQ        CX
	JNE         dots2loop

dots2sum:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, (R11)
	ADDQ         $4, R11
	ADDQ         R8, DI
	DECQ         R10
	JNE          dots2key

dots2done:
	VZEROUPPER
	RET

// func axpyRowsAVX2(a, x *float32, stride, n, m int, y *float32)
//
// axpyRowsAVX512 for n a multiple of 8, up to 32 elements of y in registers.
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ  a+0(FP), SI
	MOVQ  x+8(FP), DI
	MOVQ  stride+16(FP), R8
	SHLQ  $2, R8
	MOVQ  n+24(FP), R9
	SHRQ  $3, R9
	MOVQ  m+32(FP), R10
	MOVQ  y+40(FP), R11
	TESTQ R10, R10
	JEQ   rows2done

rows2quad:
	CMPQ    R9, $4
	JLT     rows2single
	VMOVUPS (R11), Y4
	VMOVUPS 32(R11), Y5
	VMOVUPS 64(R11), Y6
	VMOVUPS 96(R11), Y7
	MOVQ    SI, AX
	MOVQ    DI, BX
	MOVQ    R10, CX

rows2quadkey:
	VBROADCASTSS (AX), Y0
	VFMADD231PS  (BX), Y0, Y4
	VFMADD231PS  32(BX), Y0, Y5
	VFMADD231PS  64(BX), Y0, Y6
	VFMADD231PS  96(BX), Y0, Y7
	ADDQ         $4, AX
	ADDQ         R8, BX
	DECQ         CX
	JNE          rows2quadkey
	VMOVUPS      Y4, (R11)
	VMOVUPS      Y5, 32(R11)
	VMOVUPS      Y6, 64(R11)
	VMOVUPS      Y7, 96(R11)
	ADDQ         $128, R11
	ADDQ         $128, DI
	SUBQ         $4, R9
	JMP          rows2quad

rows2single:
	TESTQ   R9, R9
	JEQ     rows2done
	VMOVUPS (R11), Y4
	MOVQ    SI, AX
	MOVQ    DI, BX
	MOVQ    R10, CX

rows2singlekey:
	VBROADCASTSS (AX), Y0
	VFMADD231PS  (BX), Y0, Y4
	ADDQ         $4, AX
	ADDQ         R8, BX
	DECQ         CX
	JNE          rows2singlekey
	VMOVUPS      Y4, (R11)
	ADDQ         $32, R11
	ADDQ         $32, DI
	DECQ         R9
	JMP          rows2single

rows2done:
	VZEROUPPER
	RET

// func firstAboveAVX512(x *float32, n int, t float32) int
//
// The first i with t < x[i] (ordered: false for a NaN), or n; n a multiple
// of 16. Each block of 16 is one compare into a mask.
TEXT ·firstAboveAVX512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS t+16(FP), Z0
	XORQ         AX, AX

loop16:
	CMPQ    AX, CX
	JGE     none16
	VCMPPS  $0x11, (SI)(AX*4), Z0, K1
	KORTESTW K1, K1
	JNE     found16
	ADDQ    $16, AX
	JMP     loop16

found16:
	KMOVW  K1, DX
	BSFL   DX, DX
	ADDQ   DX, AX
	VZEROUPPER
	MOVQ   AX, ret+24(FP)
	RET

none16:
	VZEROUPPER
	MOVQ CX, ret+24(FP)
	RET

// func firstAboveAVX2(x *float32, n int, t float32) int
//
// firstAboveAVX512 for n a multiple of 8, a YMM register at a time.
TEXT ·firstAboveAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS t+16(FP), Y0
	XORQ         AX, AX

loop8:
	CMPQ      AX, CX
	JGE       none8
	VCMPPS    $0x11, (SI)(AX*4), Y0, Y1
	VMOVMSKPS Y1, DX
	TESTL     DX, DX
	JNE       found8
	ADDQ      $8, AX
	JMP       loop8

found8:
	BSFL DX, DX
	ADDQ DX, AX
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	RET

none8:
	VZEROUPPER
	MOVQ CX, ret+24(FP)
	RET

// func reluAVX512(dst, src *float32, n int)
//
// dst[i] = max(int32 bits of src[i], 0) for n a multiple of 16: src[i]
// where it is above 0 (and NaNs whose sign bit is clear), +0 elsewhere.
TEXT ·reluAVX512(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	XORQ   AX, AX

relu16:
	CMPQ      AX, CX
	JGE       relu16done
	VPMAXSD   (SI)(AX*4), Z0, Z1
	VMOVDQU32 Z1, (DI)(AX*4)
	ADDQ      $16, AX
	JMP       relu16

relu16done:
	VZEROUPPER
	RET

// func reluAVX2(dst, src *float32, n int)
//
// reluAVX512 for n a multiple of 8, a YMM register at a time.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  n+16(FP), CX
	VPXOR Y0, Y0, Y0
	XORQ  AX, AX

relu8:
	CMPQ    AX, CX
	JGE     relu8done
	VPMAXSD (SI)(AX*4), Y0, Y1
	VMOVDQU Y1, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     relu8

relu8done:
	VZEROUPPER
	RET

// func sums16AVX512(x *float32, n int, mean float64, sq bool) float64
//
// tree16 of sums16 (norm.go) for n a multiple of 16: the sums of the
// elements i ≡ l (mod 16), or with sq of (x[i] − mean)², in float64, lanes
// 0–7 in Z0 and 8–15 in Z1, then added as tree16 adds them. Each
// difference, square and sum is rounded as the loop's.
TEXT ·sums16AVX512(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD mean+16(FP), Z2
	MOVBLZX      sq+24(FP), DX
	VPXORQ       Z0, Z0, Z0
	VPXORQ       Z1, Z1, Z1
	XORQ         AX, AX
	TESTQ        DX, DX
	JNE          sq16

sum16:
	CMPQ      AX, CX
	JGE       sums16done
	VCVTPS2PD (SI)(AX*4), Z3
	VCVTPS2PD 32(SI)(AX*4), Z4
	VADDPD    Z3, Z0, Z0
	VADDPD    Z4, Z1, Z1
	ADDQ      $16, AX
	JMP       sum16

sq16:
	CMPQ      AX, CX
	JGE       sums16done
	VCVTPS2PD (SI)(AX*4), Z3
	VCVTPS2PD 32(SI)(AX*4), Z4
	VSUBPD    Z2, Z3, Z3
	VSUBPD    Z2, Z4, Z4
	VMULPD    Z3, Z3, Z3
	VMULPD    Z4, Z4, Z4
	VADDPD    Z3, Z0, Z0
	VADDPD    Z4, Z1, Z1
	ADDQ      $16, AX
	JMP       sq16

sums16done:
	VADDPD        Z1, Z0, Z0 // sum j + sum j+8
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0 // + j+4
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0 // + j+2
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0 // + j+1
	MOVSD         X0, ret+32(FP)
	VZEROUPPER
	RET

// func normalizeAVX512(x, gamma, beta, y *float32, n int, mean, rstd float64)
//
// Normalize for n a multiple of 16: y[i] = float32((x[i] − mean)·rstd) ·
// gamma[i] + beta[i], the difference and product in float64 (eight lanes a
// register), the product and sum by gamma and beta in float32, each
// rounded.
TEXT ·normalizeAVX512(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         gamma+8(FP), R8
	MOVQ         beta+16(FP), R9
	MOVQ         y+24(FP), DI
	MOVQ         n+32(FP), CX
	VBROADCASTSD mean+40(FP), Z6
	VBROADCASTSD rstd+48(FP), Z7
	XORQ         AX, AX

norm16:
	CMPQ          AX, CX
	JGE           norm16done
	VCVTPS2PD     (SI)(AX*4), Z0
	VCVTPS2PD     32(SI)(AX*4), Z1
	VSUBPD        Z6, Z0, Z0
	VSUBPD        Z6, Z1, Z1
	VMULPD        Z7, Z0, Z0
	VMULPD        Z7, Z1, Z1
	VCVTPD2PS     Z0, Y0
	VCVTPD2PS     Z1, Y1
	VINSERTF64X4  $1, Y1, Z0, Z0
	VMULPS        (R8)(AX*4), Z0, Z0
	VADDPS        (R9)(AX*4), Z0, Z0
	VMOVUPS       Z0, (DI)(AX*4)
	ADDQ          $16, AX
	JMP           norm16

norm16done:
	VZEROUPPER
	RET
