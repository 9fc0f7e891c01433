package half

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestFloat16RoundTrip checks every Float16: its float32 value converts
// back to itself (NaNs to a NaN).
func TestFloat16RoundTrip(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := Float16(i)
		v := h.Float32()
		got := FromFloat32(v)
		if v != v {
			if got.Float32() == got.Float32() {
				t.Fatalf("NaN %#04x came back as %#04x", i, got)
			}
			continue
		}
		if got != h {
			t.Fatalf("%#04x → %g → %#04x", i, v, got)
		}
	}
}

// TestFloat16Rounding checks, for every pair of neighbouring finite
// Float16s, that their midpoint rounds to the even one and that the
// float32s just either side of it round to the nearer one.
func TestFloat16Rounding(t *testing.T) {
	for i := 0; i < 0x7bff; i++ { // positive finite, below the largest
		lo, hi := Float16(i), Float16(i+1)
		a, b := float64(lo.Float32()), float64(hi.Float32())
		mid := float32((a + b) / 2) // exact: float32 has 13 more mantissa bits
		even := lo
		if i&1 == 1 {
			even = hi
		}
		if got := FromFloat32(mid); got != even {
			t.Fatalf("midpoint %g of %#04x and %#04x → %#04x, want %#04x", mid, i, i+1, got, even)
		}
		if got := FromFloat32(math.Nextafter32(mid, 0)); got != lo {
			t.Fatalf("just below %g → %#04x, want %#04x", mid, got, lo)
		}
		if got := FromFloat32(math.Nextafter32(mid, 1e9)); got != hi {
			t.Fatalf("just above %g → %#04x, want %#04x", mid, got, hi)
		}
		if got := FromFloat32(-mid); got != even|0x8000 {
			t.Fatalf("-midpoint %g → %#04x", -mid, got)
		}
	}
	// Above the largest finite value: up to the midpoint with the next
	// power of two (65520) values round down, from it on they are Inf.
	if got := FromFloat32(65519.996); got != 0x7bff {
		t.Errorf("65519.996 → %#04x, want 0x7bff", got)
	}
	if got := FromFloat32(65520); got != 0x7c00 {
		t.Errorf("65520 → %#04x, want Inf", got)
	}
}

func TestBFloat16RoundTripAndRounding(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := BFloat16(i)
		v := h.Float32()
		if v != v {
			if got := BFloat16FromFloat32(v); got != 0x7fc0 {
				t.Fatalf("NaN %#04x → %#04x, want 0x7fc0", i, got)
			}
			continue
		}
		if got := BFloat16FromFloat32(v); got != h {
			t.Fatalf("%#04x → %g → %#04x", i, v, got)
		}
		if i&0x7fff >= 0x7f7f {
			continue
		}
		next := BFloat16(i + 1)
		mid := math.Float32frombits(uint32(i)<<16 | 0x8000)
		even := h
		if i&1 == 1 {
			even = next
		}
		if got := BFloat16FromFloat32(mid); got != even {
			t.Fatalf("midpoint of %#04x and %#04x → %#04x, want %#04x", i, i+1, got, even)
		}
	}
}

// TestAgainstPyTorch compares the roundings of 10,020 float32s (random
// bit patterns, scaled normals and edge cases) with PyTorch's
// tensor.half() and tensor.bfloat16() (testdata/goldens/half.json, written
// by tools/goldens/half.py).
func TestAgainstPyTorch(t *testing.T) {
	b, err := os.ReadFile("../testdata/goldens/half.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Torch          string
		F32, F16, BF16 []uint32
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.F32) < 10000 || len(g.F16) != len(g.F32) || len(g.BF16) != len(g.F32) {
		t.Fatalf("fixture has %d, %d, %d values", len(g.F32), len(g.F16), len(g.BF16))
	}
	nan := 0
	for i, bits := range g.F32 {
		v := math.Float32frombits(bits)
		h, bf := FromFloat32(v), BFloat16FromFloat32(v)
		if v != v {
			nan++
			// PyTorch's float16 NaNs come from the CPU's own conversion;
			// both must be NaNs of the same sign.
			if h.Float32() == h.Float32() || h&0x8000 != Float16(g.F16[i])&0x8000 {
				t.Errorf("NaN %#08x → f16 %#04x, PyTorch %#04x", bits, h, g.F16[i])
			}
		} else if uint32(h) != g.F16[i] {
			t.Errorf("%g (%#08x) → f16 %#04x, PyTorch %#04x", v, bits, h, g.F16[i])
		}
		if v != v {
			// PyTorch 1.13's vector path returns NaNs other than its
			// scalar 0x7fc0; any NaN is right.
			if bf.Float32() == bf.Float32() {
				t.Errorf("NaN %#08x → bf16 %#04x", bits, bf)
			}
		} else if uint32(bf) != g.BF16[i] {
			t.Errorf("%g (%#08x) → bf16 %#04x, PyTorch %#04x", v, bits, bf, g.BF16[i])
		}
	}
	t.Logf("%d values (%d NaNs) agree with PyTorch %s", len(g.F32), nan, g.Torch)
}

// TestDecodeVectorEqualsScalar converts all 65,536 bit patterns of each
// format with the vector path (where the CPU has it) and the scalar one,
// for lengths that are and are not multiples of 8.
func TestDecodeVectorEqualsScalar(t *testing.T) {
	for _, f := range []Format{F16, BF16} {
		if !Accelerated(f) {
			t.Logf("%v: no vector path on this CPU (F16C %v, AVX2 %v)", f, cpuF16C, cpuAVX2)
			continue
		}
		for _, n := range []int{1 << 16, 1<<16 - 3, 7, 9} {
			src := make([]uint16, n)
			for i := range src {
				src[i] = uint16(i * 40503) // every pattern once for n = 2¹⁶
			}
			vec, sca := make([]float32, n), make([]float32, n)
			decode(f, vec, src)
			restore := setAccelerated(false)
			decode(f, sca, src)
			restore()
			for i := range vec {
				if math.Float32bits(vec[i]) != math.Float32bits(sca[i]) {
					t.Fatalf("%v n=%d: %#04x → vector %#08x, scalar %#08x", f, n, src[i], math.Float32bits(vec[i]), math.Float32bits(sca[i]))
				}
			}
		}
		t.Logf("%v: vector and scalar conversions agree bit for bit", f)
	}
}

func decode(f Format, dst []float32, src []uint16) {
	if f == F16 {
		s := make([]Float16, len(src))
		for i, v := range src {
			s[i] = Float16(v)
		}
		DecodeFloat16(dst, s)
		return
	}
	s := make([]BFloat16, len(src))
	for i, v := range src {
		s[i] = BFloat16(v)
	}
	DecodeBFloat16(dst, s)
}

func TestParseFormat(t *testing.T) {
	for s, want := range map[string]Format{"f16": F16, "fp16": F16, "float16": F16, "bf16": BF16, "bfloat16": BF16} {
		if f, err := ParseFormat(s); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	for _, s := range []string{"", "f32", "F16", "int8"} {
		if _, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) accepted", s)
		}
	}
	if F16.Max() != 65504 || BF16.Max() != 3.3895314e38 {
		t.Errorf("Max: %g, %g", F16.Max(), BF16.Max())
	}
}

// Round equals converting to the format and back, element by element,
// on its vector path (F16C for float16) as on the scalar one, over every
// float16 exponent, ties, overflow, subnormals and NaN.
func TestRoundEqualsConversion(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	src := []float32{0, -0, 65504, 65520, 65519.99, 1e-8, -6e-8, 3e-5, float32(math.Inf(-1)), float32(math.NaN()), 1 + 1.0/2048, 1 + 3.0/2048}
	for len(src) < 4099 {
		src = append(src, float32(math.Ldexp(r.NormFloat64(), r.IntN(60)-30)))
	}
	for _, f := range []Format{F16, BF16} {
		for _, accel := range []bool{true, false} {
			restore := setAccelerated(accel)
			got := make([]float32, len(src))
			Round(f, got, src)
			restore()
			for i, v := range src {
				var want float32
				if f == F16 {
					want = FromFloat32(v).Float32()
				} else {
					want = BFloat16FromFloat32(v).Float32()
				}
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
					t.Fatalf("%v (vector %v): Round(%g) = %g, conversion %g", f, accel, v, got[i], want)
				}
			}
		}
	}
}
