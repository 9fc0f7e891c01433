package half

import "unsafe"

// EncodeFloat16 rounds src into dst (FromFloat32 each); dst must be as long.
func EncodeFloat16(dst []Float16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = FromFloat32(v)
	}
}

// EncodeBFloat16 rounds src into dst (BFloat16FromFloat32 each).
func EncodeBFloat16(dst []BFloat16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = BFloat16FromFloat32(v)
	}
}

// DecodeFloat16 converts src into dst, which must be as long.
func DecodeFloat16(dst []float32, src []Float16) {
	dst = dst[:len(src)]
	n := 0
	if hasF16C && len(src) >= 8 {
		n = len(src) &^ 7
		decodeF16C(&dst[0], (*uint16)(unsafe.Pointer(&src[0])), n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = src[i].Float32()
	}
}

// DecodeBFloat16 converts src into dst, which must be as long.
func DecodeBFloat16(dst []float32, src []BFloat16) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2 && len(src) >= 8 {
		n = len(src) &^ 7
		decodeBF16AVX2(&dst[0], (*uint16)(unsafe.Pointer(&src[0])), n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = src[i].Float32()
	}
}

// Accelerated reports whether Decode uses vector instructions for f here.
func Accelerated(f Format) bool {
	if f == F16 {
		return hasF16C
	}
	return hasAVX2
}

// setAccelerated switches the vector paths on or off (for tests), and
// returns a function that restores them.
func setAccelerated(on bool) (restore func()) {
	f, a := hasF16C, hasAVX2
	hasF16C, hasAVX2 = on && cpuF16C, on && cpuAVX2
	return func() { hasF16C, hasAVX2 = f, a }
}
