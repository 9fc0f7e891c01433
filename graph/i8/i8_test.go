package i8

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

func randSlice(r *rand.Rand, n int, sd float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * sd)
	}
	return x
}

// eachKernel runs f with every kernel this processor has, each forced in turn.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer active.Store(active.Load())
	for _, name := range Kernels() {
		if err := UseKernel(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

func TestKernelsFollowCPU(t *testing.T) {
	var want []string
	if runtime.GOARCH == "amd64" && !purego {
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
			want = append(want, "vnni")
		}
		if cpu.X86.HasAVX2 {
			want = append(want, "avx2")
		}
	}
	want = append(want, Pure)
	if got := Kernels(); !slices.Equal(got, want) {
		t.Fatalf("kernels %v, want %v", got, want)
	}
	if Kernel() != want[0] {
		t.Fatalf("kernel in use %q, want %q", Kernel(), want[0])
	}
	if err := UseKernel("amx"); err == nil || Kernel() != want[0] {
		t.Fatalf("UseKernel(amx): %v, kernel now %q", err, Kernel())
	}
	t.Logf("int8 kernels on this CPU: %v", want)
}

// TestKernelsAgree checks every kernel against the scalar one: the int32
// sums are exact, so the float32 results are equal bit for bit. Shapes
// cross every edge: k not a multiple of 4, columns past a 64-column block,
// rows past a 4-row tile, and products split across goroutines.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type shape struct{ rows, k, n int }
	shapes := []shape{{1, 1, 1}, {3, 5, 7}, {4, 8, 64}, {5, 13, 65}, {9, 64, 130}, {2, 256, 1000}, {33, 256, 1024}, {160, 512, 300}}
	for _, s := range shapes {
		x := randSlice(r, s.rows*s.k, 1)
		x[0] = 0
		w := randSlice(r, s.k*s.n, 0.1)
		bias := randSlice(r, s.n, 1)
		m, err := Quantize(w, s.k, s.n, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := UseKernel(Pure); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, s.rows*s.n)
		m.Product(s.rows, x, bias, want)
		t.Run(fmt.Sprintf("%dx%dx%d", s.rows, s.k, s.n), func(t *testing.T) {
			eachKernel(t, func(t *testing.T) {
				got := make([]float32, s.rows*s.n)
				m.Product(s.rows, x, bias, got)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v: element %d = %v, scalar kernel %v", s, i, got[i], want[i])
					}
				}
			})
		})
	}
	active.Store(&kernels[0])
}

// TestProductMatchesFloat checks the int8 product against the float64
// product of the same x and W: its error is that of rounding x and W to
// 8 bits, about 1% of the typical output here.
func TestProductMatchesFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, k, n = 17, 256, 200
	x, w := randSlice(r, rows*k, 1), randSlice(r, k*n, 0.05)
	for _, trans := range []bool{false, true} {
		m, err := Quantize(w, k, n, trans)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, rows*n)
		m.Product(rows, x, nil, got)
		var errSq, refSq float64
		for i := 0; i < rows; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					wv := w[p*n+j]
					if trans {
						wv = w[j*k+p]
					}
					s += float64(x[i*k+p]) * float64(wv)
				}
				d := float64(got[i*n+j]) - s
				errSq += d * d
				refSq += s * s
			}
		}
		rel := math.Sqrt(errSq / refSq)
		if rel > 0.02 {
			t.Fatalf("trans %v: relative error %.4f, want ≤ 0.02", trans, rel)
		}
		t.Logf("trans %v: relative error of the int8 product %.4f", trans, rel)
	}
}

func TestQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const k, n = 37, 70
	w := randSlice(r, k*n, 1)
	for p := 0; p < k; p++ {
		w[p*n+3] = 0 // a column of zeros
	}
	m, err := Quantize(w, k, n, false)
	if err != nil {
		t.Fatal(err)
	}
	back := m.Dequantize()
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			q := m.Q(p, j)
			if q < -127 {
				t.Fatalf("Q(%d, %d) = %d", p, j, q)
			}
			if d := math.Abs(float64(back[p*n+j] - w[p*n+j])); d > float64(m.Scale[j])/2*1.0001 {
				t.Fatalf("W[%d, %d] = %v comes back as %v (scale %v)", p, j, w[p*n+j], back[p*n+j], m.Scale[j])
			}
		}
	}
	if m.Scale[3] != 1 || m.Q(5, 3) != 0 {
		t.Fatalf("zero column: scale %v, Q %d", m.Scale[3], m.Q(5, 3))
	}
	// The largest value of each column is ±127 exactly.
	for j := 0; j < n; j++ {
		if j == 3 {
			continue
		}
		hit := false
		for p := 0; p < k; p++ {
			hit = hit || m.Q(p, j) == 127 || m.Q(p, j) == -127
		}
		if !hit {
			t.Fatalf("column %d never reaches ±127", j)
		}
	}
	for _, bad := range []struct {
		w    []float32
		k, n int
	}{{w[:10], 3, 4}, {nil, 0, 0}, {[]float32{1, float32(math.NaN())}, 1, 2}, {[]float32{float32(math.Inf(1))}, 1, 1}} {
		if _, err := Quantize(bad.w, bad.k, bad.n, false); err == nil {
			t.Errorf("Quantize(%v, %d, %d) succeeded", bad.w, bad.k, bad.n)
		} else {
			t.Log(err)
		}
	}
}

// BenchmarkProduct compares the int8 product with each kernel for the
// shapes of decoding (a few rows) and encoding.
func BenchmarkProduct(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][3]int{{32, 256, 1024}, {32, 1024, 256}, {32, 256, 10000}, {160, 256, 10000}, {1536, 256, 1024}, {64, 128, 8000}, {64, 128, 512}} {
		rows, k, n := s[0], s[1], s[2]
		x, w, c := randSlice(r, rows*k, 1), randSlice(r, k*n, 0.05), make([]float32, rows*n)
		m, _ := Quantize(w, k, n, false)
		ops := 2 * float64(rows) * float64(k) * float64(n)
		for _, name := range Kernels() {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, rows, n, k), func(b *testing.B) {
				defer active.Store(active.Load())
				UseKernel(name)
				for b.Loop() {
					m.Product(rows, x, nil, c)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
		}
	}
}

// TestQuantizeRowsVectorEqualsScalar checks the AVX-512 row quantisation
// against the scalar one, bit for bit: scales and bytes, signed and
// unsigned, with ties (x·inv exactly k + ½) and the extremes of each row.
func TestQuantizeRowsVectorEqualsScalar(t *testing.T) {
	if !hasQuantAVX512 {
		t.Skip("no AVX-512 on this processor")
	}
	defer func() { useQuantAVX512 = true }()
	r := rand.New(rand.NewPCG(9, 10))
	for _, k := range []int{1, 15, 16, 17, 33, 64, 127, 256, 1030} {
		const rows = 5
		x := randSlice(r, rows*k, 3)
		for i := 0; i < len(x); i += 7 {
			x[i] = float32(int(x[i])) + 0.5 // ties once scaled by 127/127 rows below
		}
		for p := 0; p < k; p++ {
			x[2*k+p] = float32(p%255-127) / 127 * 127 // row 2: max 127, scale 1, exact ties absent
			x[3*k+p] = float32(p%9) - 4 + 0.5         // row 3: many halves
			x[4*k+p] = 1e-38 * float32(p%3-1)         // row 4: so small that 1/scale overflows
		}
		k4 := (k + 3) &^ 3
		for _, unsigned := range []bool{false, true} {
			var q [2][]int8
			var s [2][]float32
			for i, vec := range []bool{false, true} {
				useQuantAVX512 = vec
				q[i], s[i] = make([]int8, rows*k4), make([]float32, rows)
				quantizeRows(rows, k, k4, x, q[i], s[i], unsigned)
			}
			if !slices.Equal(q[0], q[1]) || !slices.Equal(s[0], s[1]) {
				t.Fatalf("k=%d unsigned=%v: AVX-512 quantisation differs from the scalar one", k, unsigned)
			}
		}
	}
}

// A concatenation's product equals its parts' products side by side, bit
// for bit, with each kernel, bias included; parts whose columns are not
// whole blocks (but the last) are refused.
func TestConcatProductEqualsParts(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const k = 37
	ns := []int{64, 128, 70}
	var parts []*Matrix
	for _, n := range ns {
		m, err := Quantize(randSlice(r, k*n, 0.05), k, n, false)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, m)
	}
	cat, err := Concat(parts...)
	if err != nil {
		t.Fatal(err)
	}
	defer active.Store(active.Load())
	for _, name := range Kernels() {
		UseKernel(name)
		for _, rows := range []int{1, 4, 9} {
			x, bias := randSlice(r, rows*k, 1), randSlice(r, cat.N, 1)
			got := make([]float32, rows*cat.N)
			cat.Product(rows, x, bias, got)
			off := 0
			for _, p := range parts {
				want := make([]float32, rows*p.N)
				p.Product(rows, x, bias[off:off+p.N], want)
				for i := 0; i < rows; i++ {
					for j := 0; j < p.N; j++ {
						if g, w := got[i*cat.N+off+j], want[i*p.N+j]; math.Float32bits(g) != math.Float32bits(w) {
							t.Fatalf("%s, %d rows: [%d, %d] = %v, part's product %v", name, rows, i, off+j, g, w)
						}
					}
				}
				off += p.N
			}
		}
	}
	if _, err := Concat(parts[2], parts[0]); err == nil {
		t.Error("a part of 70 columns before another was accepted")
	}
	other, _ := Quantize(randSlice(r, 5*64, 1), 5, 64, false)
	if _, err := Concat(parts[0], other); err == nil {
		t.Error("parts with different K were accepted")
	}
}
