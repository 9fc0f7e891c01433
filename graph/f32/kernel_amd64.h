// Shared parts of the 6×16 micro-kernels (kernel_amd64.s, kernel_half_amd64.s).

// ZERO_TILE clears the twelve accumulators Y4–Y15.
#define ZERO_TILE \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11 \
	VXORPS Y12, Y12, Y12 \
	VXORPS Y13, Y13, Y13 \
	VXORPS Y14, Y14, Y14 \
	VXORPS Y15, Y15, Y15

// STORE_TILE adds the accumulators to the tile at DX (rows R8 bytes apart),
// or stores them there when add is false, and returns. It defines the
// labels store and overwrite.
#define STORE_TILE \
store: \
	MOVBQZX add+48(FP), AX \
	TESTQ   AX, AX \
	JEQ     overwrite \
	VADDPS  (DX), Y4, Y4 \
	VADDPS  32(DX), Y5, Y5 \
	VMOVUPS Y4, (DX) \
	VMOVUPS Y5, 32(DX) \
	ADDQ    R8, DX \
	VADDPS  (DX), Y6, Y6 \
	VADDPS  32(DX), Y7, Y7 \
	VMOVUPS Y6, (DX) \
	VMOVUPS Y7, 32(DX) \
	ADDQ    R8, DX \
	VADDPS  (DX), Y8, Y8 \
	VADDPS  32(DX), Y9, Y9 \
	VMOVUPS Y8, (DX) \
	VMOVUPS Y9, 32(DX) \
	ADDQ    R8, DX \
	VADDPS  (DX), Y10, Y10 \
	VADDPS  32(DX), Y11, Y11 \
	VMOVUPS Y10, (DX) \
	VMOVUPS Y11, 32(DX) \
	ADDQ    R8, DX \
	VADDPS  (DX), Y12, Y12 \
	VADDPS  32(DX), Y13, Y13 \
	VMOVUPS Y12, (DX) \
	VMOVUPS Y13, 32(DX) \
	ADDQ    R8, DX \
	VADDPS  (DX), Y14, Y14 \
	VADDPS  32(DX), Y15, Y15 \
	VMOVUPS Y14, (DX) \
	VMOVUPS Y15, 32(DX) \
	VZEROUPPER \
	RET \
overwrite: \
	VMOVUPS Y4, (DX) \
	VMOVUPS Y5, 32(DX) \
	ADDQ    R8, DX \
	VMOVUPS Y6, (DX) \
	VMOVUPS Y7, 32(DX) \
	ADDQ    R8, DX \
	VMOVUPS Y8, (DX) \
	VMOVUPS Y9, 32(DX) \
	ADDQ    R8, DX \
	VMOVUPS Y10, (DX) \
	VMOVUPS Y11, 32(DX) \
	ADDQ    R8, DX \
	VMOVUPS Y12, (DX) \
	VMOVUPS Y13, 32(DX) \
	ADDQ    R8, DX \
	VMOVUPS Y14, (DX) \
	VMOVUPS Y15, 32(DX) \
	VZEROUPPER \
	RET
