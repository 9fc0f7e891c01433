package graph

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
)

// rounded64 is v rounded to f, as float64s.
func rounded64(f half.Format, v []float64) []float64 {
	x := make([]float32, len(v))
	for i, e := range v {
		x[i] = float32(e)
	}
	RoundTo(f, x)
	out := make([]float64, len(v))
	for i, e := range x {
		out[i] = float64(e)
	}
	return out
}

// product64 is op(a)·op(b) in float64 for row-major a [m, k] ([k, m] when
// ta) and b [k, n] ([n, k] when tb).
func product64(ta, tb bool, m, n, k int, a, b []float64) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bj := a[i*k+p], 0.0
				if ta {
					ai = a[p*m+i]
				}
				if tb {
					bj = b[j*k+p]
				} else {
					bj = b[p*n+j]
				}
				s += ai * bj
			}
			c[i*n+j] = s
		}
	}
	return c
}

// A rounded Affine computes, forward and backward, the products of its
// operands rounded to the format, summed in float32: it equals float64
// products of the rounded values to float32 accuracy, on every kernel
// (bfloat16 runs VDPBF16PS where the CPU has it, for the forward product
// with 100 outputs), in blocks of rounded values as well as whole, and
// differs from the unrounded products by far more.
func TestRoundedAffineMatchesRoundedProducts(t *testing.T) {
	const n, in = 37, 45
	defer func(b, m int) { roundBlock, minBlock = b, m }(roundBlock, minBlock)
	for _, kernel := range Kernels() {
		for _, f := range []half.Format{half.BF16, half.F16} {
			for _, trans := range []bool{false, true} {
				for _, out := range []int{29, 100} {
					for _, block := range []int{1 << 20, 100} {
						name := fmt.Sprintf("%s/%v/transposed=%v/out=%d/block=%d", kernel, f, trans, out, block)
						t.Run(name, func(t *testing.T) {
							defer func(k string) { _ = UseKernel(k) }(Kernel())
							if err := UseKernel(kernel); err != nil {
								t.Fatal(err)
							}
							roundBlock, minBlock = block, 1
							checkRoundedAffine(t, f, trans, n, in, out)
						})
					}
				}
			}
		}
	}
}

func checkRoundedAffine(t *testing.T, f half.Format, trans bool, n, in, out int) {
	b := NewBuilder(NewStore(tensor.Float32, 1), false)
	b.Precision = f
	x := RandomInput(b, "x", 1, n, in)
	wShape := []int{in, out}
	if trans {
		wShape = []int{out, in}
	}
	w := RandomInput(b, "w", 2, wShape...)
	bias := RandomInput(b, "b", 3, out)
	var y *G.Node
	if trans {
		y = b.AffineT(x, w, bias)
	} else {
		y = b.Affine(x, w, bias)
	}
	probe := Probe(b, y, 5)
	if _, err := G.Grad(probe, x, w, bias); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	val := func(n *G.Node) []float64 { return Float64s(n.Value().(*tensor.Dense)) }
	grad := func(n *G.Node) []float64 {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return Float64s(g.(*tensor.Dense))
	}
	dy := Float64s(b.InputNode("probe.5").Value().(*tensor.Dense))
	xv, wv, bv := val(x), val(w), val(bias)
	xr, wr, dyr := rounded64(f, xv), rounded64(f, wv), rounded64(f, dy)

	want := product64(false, trans, n, out, in, xr, wr)
	plain := product64(false, trans, n, out, in, xv, wv)
	for i := range want {
		want[i] += bv[i%out]
		plain[i] += bv[i%out]
	}
	wantDx := product64(false, !trans, n, in, out, dyr, wr)
	var wantDw []float64
	if trans {
		wantDw = product64(true, false, out, in, n, dyr, xr)
	} else {
		wantDw = product64(true, false, in, out, n, xr, dyr)
	}
	wantDb := make([]float64, out)
	for i, g := range dy {
		wantDb[i%out] += g
	}
	for _, c := range []struct {
		what      string
		got, want []float64
	}{{"output", val(y), want}, {"dx", grad(x), wantDx}, {"dW", grad(w), wantDw}, {"db", grad(bias), wantDb}} {
		if d := maxRelDiff(c.got, c.want); d > 1e-5 {
			t.Errorf("%s differs from the products of rounded operands by %.3g", c.what, d)
		}
	}
	if d := maxRelDiff(val(y), plain); d < 1e-4 {
		t.Errorf("output is within %.3g of the unrounded product: the operands were not rounded", d)
	}
}

// RoundedProduct's gradient (productOp.SymDiff) passes a float64
// finite-difference check, plain and transposed (no rounding in float64).
func TestRoundedProductGradCheck(t *testing.T) {
	for _, trans := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x := RandomInput(b, "x", 1, 7, 5)
		wShape := []int{5, 6}
		if trans {
			wShape = []int{6, 5}
		}
		w := RandomInput(b, "w", 2, wShape...)
		checkGrads(t, fmt.Sprintf("transposed %v", trans), b, RoundedProduct(0, x, w, trans), G.Nodes{x, w})
	}
}

// A builder's Precision rounds the weight products of float32 graphs only:
// float64 graphs, which the gradient checks use, stay exact.
func TestPrecisionLeavesFloat64Exact(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	b.Precision = half.BF16
	x, w, bias := affineInputs(b, false)
	if got := b.Affine(x, w, bias).Op().String(); got != "Affine" {
		t.Errorf("float64 builder with Precision bf16 built %s, want Affine", got)
	}
	b32 := NewBuilder(NewStore(tensor.Float32, 1), false)
	b32.Precision = half.BF16
	x, w, bias = affineInputs(b32, false)
	if got := b32.Affine(x, w, bias).Op().String(); got != "Affine{bf16}" {
		t.Errorf("float32 builder with Precision bf16 built %s, want Affine{bf16}", got)
	}
}

// RoundTo rounds to nearest even and overflows float16 to infinity.
func TestRoundTo(t *testing.T) {
	x := []float32{1 + 1.0/256, 1 + 3.0/256, 70000, 1 + 1.0/2048}
	RoundTo(half.BF16, x)
	if x[0] != 1 || x[1] != 1+4.0/256 {
		t.Errorf("bf16 rounding: %v", x[:2])
	}
	y := []float32{70000, 1 + 1.0/2048, 65504}
	RoundTo(half.F16, y)
	if !(y[0] > 1e38) || y[1] != 1 || y[2] != 65504 {
		t.Errorf("f16 rounding: %v", y)
	}
}
