//go:build !purego

#include "textflag.h"
#include "kernel_amd64.h"

// The micro-kernel of kernel_amd64.s for a B of 16-bit numbers read in
// place (rows ldb values apart): each step converts the 16 values of a B
// row to float32 in registers, then does the same twelve multiply-adds.

// FMA12 is STEP's arithmetic: six A values from OFF(SI) against Y0, Y1.
#define FMA12(OFF) \
	VBROADCASTSS (OFF+0)(SI), Y2     \
	VBROADCASTSS (OFF+4)(SI), Y3     \
	VFMADD231PS  Y0, Y2, Y4          \
	VFMADD231PS  Y1, Y2, Y5          \
	VFMADD231PS  Y0, Y3, Y6          \
	VFMADD231PS  Y1, Y3, Y7          \
	VBROADCASTSS (OFF+8)(SI), Y2     \
	VBROADCASTSS (OFF+12)(SI), Y3    \
	VFMADD231PS  Y0, Y2, Y8          \
	VFMADD231PS  Y1, Y2, Y9          \
	VFMADD231PS  Y0, Y3, Y10         \
	VFMADD231PS  Y1, Y3, Y11         \
	VBROADCASTSS (OFF+16)(SI), Y2    \
	VBROADCASTSS (OFF+20)(SI), Y3    \
	VFMADD231PS  Y0, Y2, Y12         \
	VFMADD231PS  Y1, Y2, Y13         \
	VFMADD231PS  Y0, Y3, Y14         \
	VFMADD231PS  Y1, Y3, Y15

// STEPH loads a float16 B row (two groups of eight at B0, B1) with F16C.
#define STEPH(B0, B1, OFF) \
	VCVTPH2PS B0, Y0 \
	VCVTPH2PS B1, Y1 \
	FMA12(OFF)

// STEPB loads a bfloat16 B row: zero-extend to 32 bits, shift into the
// upper half.
#define STEPB(B0, B1, OFF) \
	VPMOVZXWD B0, Y0   \
	VPMOVZXWD B1, Y1   \
	VPSLLD $16, Y0, Y0 \
	VPSLLD $16, Y1, Y1 \
	FMA12(OFF)

// func kernel6x16f16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)
//
// kernel6x16 for a float16 B, ldb values apart.
TEXT ·kernel6x16f16(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R9
	SHLQ $1, R9
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8

	ZERO_TILE

	CMPQ CX, $2
	JLT  tail

pair:
	STEPH((DI), 16(DI), 0)
	STEPH((DI)(R9*1), 16(DI)(R9*1), 24)

	ADDQ $48, SI
	LEAQ (DI)(R9*2), DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  pair

tail:
	TESTQ CX, CX
	JE    store
	STEPH((DI), 16(DI), 0)

	STORE_TILE

// func kernel6x16bf16(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)
//
// kernel6x16 for a bfloat16 B, ldb values apart.
TEXT ·kernel6x16bf16(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R9
	SHLQ $1, R9
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8

	ZERO_TILE

	CMPQ CX, $2
	JLT  tail

pair:
	STEPB((DI), 16(DI), 0)
	STEPB((DI)(R9*1), 16(DI)(R9*1), 24)

	ADDQ $48, SI
	LEAQ (DI)(R9*2), DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  pair

tail:
	TESTQ CX, CX
	JE    store
	STEPB((DI), 16(DI), 0)

	STORE_TILE

