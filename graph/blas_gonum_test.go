//go:build !openblas

package graph

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph/f32"
	"github.com/gotransformer/transformer/graph/i8"
)

// The pure-Go build multiplies with package f32's kernel where the processor
// has one, and with gonum's Sgemm under UseKernel("go"); every kernel gives
// the same products up to rounding.
func TestGoBLASFollowsKernel(t *testing.T) {
	if _, ours := G.WhichBLAS().(goBLAS); !ours {
		t.Fatalf("implementation %T, want goBLAS", G.WhichBLAS())
	}
	defer UseKernel(Kernel())
	const m, n, k = 37, 45, 70
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(math.Sin(float64(i)))
	}
	for i := range b {
		b[i] = float32(math.Cos(float64(3 * i)))
	}
	for _, name := range Kernels() {
		if err := UseKernel(name); err != nil {
			t.Fatal(err)
		}
		want := "gonum"
		if name != f32.Pure {
			want = "go-" + name
		}
		if BLAS != want || Kernel() != name {
			t.Fatalf("kernel %s: BLAS %q, Kernel %q", name, BLAS, Kernel())
		}
		// int8 products follow: the scalar kernel with "go", AVX2 with
		// "avx2", the fastest with "avx512".
		wantQ := map[string]string{"go": "go", "avx2": "avx2", "avx512": i8.Kernels()[0]}[name]
		if Int8Kernel() != wantQ {
			t.Fatalf("kernel %s: int8 kernel %q, want %q", name, Int8Kernel(), wantQ)
		}
		c := make([]float32, m*n)
		goBLAS{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
		worst := 0.0
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					s += float64(a[i*k+p]) * float64(b[p*n+j])
				}
				worst = max(worst, math.Abs(float64(c[i*n+j])-s))
			}
		}
		if worst > 1e-4 {
			t.Fatalf("kernel %s: worst error %g", name, worst)
		}
		t.Logf("kernel %s (BLAS %s): worst error %.2g", name, BLAS, worst)
	}
	if err := UseKernel("mmx"); err == nil {
		t.Fatal("UseKernel(mmx) succeeded")
	}
	var _ G.BLAS = goBLAS{}
}
