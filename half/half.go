package half

import (
	"fmt"
	"math"
)

// Float16 is an IEEE 754 binary16 number, by its bits.
type Float16 uint16

// BFloat16 is a bfloat16 number, by its bits: the upper 16 bits of the
// float32 it rounds.
type BFloat16 uint16

// Format names a 16-bit format.
type Format int

// The formats; the zero Format is none (float32).
const (
	F16 Format = iota + 1
	BF16
)

// ParseFormat reads "f16" (also "float16", "fp16") or "bf16" ("bfloat16").
func ParseFormat(s string) (Format, error) {
	switch s {
	case "f16", "float16", "fp16":
		return F16, nil
	case "bf16", "bfloat16":
		return BF16, nil
	}
	return 0, fmt.Errorf("unknown half-precision format %q (want f16 or bf16)", s)
}

// String is "f16", "bf16", or "f32" for the zero Format.
func (f Format) String() string {
	switch f {
	case F16:
		return "f16"
	case BF16:
		return "bf16"
	case 0:
		return "f32"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FromFloat32 rounds v to the nearest Float16, ties to even. Values beyond
// the largest finite Float16 (65504) become ±Inf; NaNs stay NaNs (quiet,
// with the top bits of their payload, as F16C's VCVTPS2PH keeps them).
func FromFloat32(v float32) Float16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return Float16(sign | 0x7e00 | uint16(man>>13))
		}
		return Float16(sign | 0x7c00)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return Float16(sign | 0x7c00)
	}
	if e <= 0 { // a subnormal Float16, or zero
		if e < -10 {
			return Float16(sign)
		}
		man |= 0x800000
		shift := uint(14 - e)
		r, rem, mid := man>>shift, man&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > mid || rem == mid && r&1 == 1 {
			r++
		}
		return Float16(sign | uint16(r))
	}
	r, rem := uint32(e)<<10|man>>13, man&0x1fff
	if rem > 0x1000 || rem == 0x1000 && r&1 == 1 {
		r++ // a carry into the exponent is right, up to Inf
	}
	return Float16(sign | uint16(r))
}

// Float32 is h's exact float32 value (a quiet NaN for any NaN).
func (h Float16) Float32() float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0x1f:
		if man != 0 { // NaN: quieted, as VCVTPH2PS does
			return math.Float32frombits(sign | 0x7fc00000 | man<<13)
		}
		return math.Float32frombits(sign | 0x7f800000)
	case 0:
		v := float32(man) * (1.0 / (1 << 24)) // subnormal: man·2⁻²⁴
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// BFloat16FromFloat32 rounds v to the nearest BFloat16, ties to even;
// every NaN becomes the quiet NaN 0x7fc0, as in PyTorch.
func BFloat16FromFloat32(v float32) BFloat16 {
	if v != v {
		return 0x7fc0
	}
	b := math.Float32bits(v)
	b += 0x7fff + (b>>16)&1
	return BFloat16(b >> 16)
}

// Float32 is h's exact float32 value.
func (h BFloat16) Float32() float32 { return math.Float32frombits(uint32(h) << 16) }

// Max is the largest finite value of format f.
func (f Format) Max() float32 {
	if f == F16 {
		return 65504
	}
	return BFloat16(0x7f7f).Float32()
}
