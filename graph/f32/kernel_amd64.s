//go:build !purego

#include "textflag.h"
#include "kernel_amd64.h"

// STEP does one step of k: the two halves of a B row at B0 and B1, six A
// values from OFF(SI), twelve multiply-adds into Y4–Y15.
#define STEP(B0, B1, OFF) \
	VMOVUPS      B0, Y0              \
	VMOVUPS      B1, Y1              \
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


// func kernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)
//
// C[6×16] += A·B (C = A·B when add is false, without reading C) for a
// packed A panel (k groups of 6 row values) and k rows of 16 B values, ldb
// floats apart (16 for a packed panel); C rows are ldc floats apart. Twelve
// YMM accumulators hold the tile; each step of k broadcasts six A values and
// issues twelve fused multiply-adds against two YMM loads of B. The loop does
// two steps at a time.
TEXT ·kernel6x16(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R9
	SHLQ $2, R9
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8

	ZERO_TILE

	CMPQ CX, $2
	JLT  tail

pair:
	STEP((DI), 32(DI), 0)
	STEP((DI)(R9*1), 32(DI)(R9*1), 24)

	ADDQ $48, SI
	LEAQ (DI)(R9*2), DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  pair

tail:
	TESTQ CX, CX
	JE    store
	STEP((DI), 32(DI), 0)

	STORE_TILE
