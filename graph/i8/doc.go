// Package i8 multiplies float32 activations by int8 weight matrices, the
// products of int8 inference (as CTranslate2 and Marian decode):
//
//   - Quantize rounds a weight matrix W [k, n] to int8 per output column,
//     symmetrically: W[:, j] ≈ scale_j · q[:, j] with q in [−127, 127], and
//     packs it for the kernels.
//   - Matrix.Product computes C = x·W + bias for float32 x [m, k]: each row
//     of x is quantised to int8 on the fly (its own symmetric scale), the
//     products are summed exactly in int32, and each sum is scaled back to
//     float32 by the row's and the column's scales.
//
// The kernels, chosen by CPU features like package f32's: "vnni", the
// AVX512-VNNI VPDPBUSD (four byte products a lane an instruction, 4 rows ×
// 64 columns a tile); "avx2", VPMADDUBSW and VPMADDWD with the signs of x
// moved onto W (VPSIGNB) so that no pair sum saturates; and "go", the
// scalar reference. All three give the same int32 sums, so the same float32
// results, bit for bit (TestKernelsAgree).
package i8
