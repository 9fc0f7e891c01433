// Package half holds the two 16-bit floating-point formats of model
// weights: IEEE 754 binary16 (Float16: 1 sign, 5 exponent, 10 mantissa
// bits) and bfloat16 (BFloat16: the top half of a float32, with 8 exponent
// and 7 mantissa bits).
//
// Conversions from float32 round to nearest, ties to even, as PyTorch's
// tensor.half() and tensor.bfloat16() do; conversions to float32 are exact.
// Decode converts whole slices with the processor's F16C (VCVTPH2PS) and
// AVX2 instructions where it has them, and with the scalar code otherwise;
// the tests check both against each other and against PyTorch.
package half
