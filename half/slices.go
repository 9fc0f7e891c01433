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
func DecodeFloat16(dst []float32, src []Float16) { Decode(F16, dst, Float16Bits(src)) }

// DecodeBFloat16 converts src into dst, which must be as long.
func DecodeBFloat16(dst []float32, src []BFloat16) { Decode(BF16, dst, BFloat16Bits(src)) }

// Decode converts the numbers of format f whose bits are src into dst,
// which must be as long.
func Decode(f Format, dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := 0
	if len(src) >= 8 && Accelerated(f) {
		n = len(src) &^ 7
		if f == F16 {
			decodeF16C(&dst[0], &src[0], n)
		} else {
			decodeBF16AVX2(&dst[0], &src[0], n)
		}
	}
	if f == F16 {
		for i := n; i < len(src); i++ {
			dst[i] = Float16(src[i]).Float32()
		}
		return
	}
	for i := n; i < len(src); i++ {
		dst[i] = BFloat16(src[i]).Float32()
	}
}

// Float16Bits views s as its bits (no copy).
func Float16Bits(s []Float16) []uint16 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&s[0])), len(s))
}

// BFloat16Bits views s as its bits (no copy).
func BFloat16Bits(s []BFloat16) []uint16 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&s[0])), len(s))
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

// Round writes src rounded to the nearest numbers of format f (ties to
// even, beyond f's range to ±Inf, NaN to NaN) into dst, as float32s; dst
// may be src. It is what converting to f and back gives, without the
// 16-bit copy (F16C's VCVTPS2PH and VCVTPH2PS for float16, AVX2 integer
// arithmetic for bfloat16, where the CPU has them).
func Round(f Format, dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if len(src) >= 8 && Accelerated(f) {
		n = len(src) &^ 7
		if f == F16 {
			roundF16C(&dst[0], &src[0], n)
		} else {
			roundBF16AVX2(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		if f == F16 {
			dst[i] = FromFloat32(src[i]).Float32()
		} else {
			dst[i] = BFloat16FromFloat32(src[i]).Float32()
		}
	}
}
