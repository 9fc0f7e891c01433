package f32

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// A microKernel is one instruction set's inner loop of Sgemm: it multiplies
// a packed panel of mr rows of A by nr columns of B into an mr×nr tile of C,
// and has the exponential of the same instruction set beside it.
type microKernel struct {
	name   string
	mr, nr int
	// f32 adds A·B to the tile at c (rows ldc floats apart), or stores it
	// there when add is false, for k steps of a packed A panel (mr values a
	// step) and k rows of nr B values, ldb floats apart (nr for a packed
	// panel).
	f32 func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)
	// f16 and bf16 are f32 for a B of 16-bit numbers read in place, or nil
	// where this kernel has none (B is then converted as it is packed).
	f16, bf16 func(k int, a *float32, b *uint16, ldb int, c *float32, ldc int, add bool)
	// exp is ExpShift, dot Dot, axpy Axpy, dots Dots and axpyRows
	// AxpyRows, for n a multiple of lanes.
	exp      func(dst, src *float32, n int, shift float32) float32
	dot      func(x, y *float32, n int) float32
	axpy     func(alpha float32, x, y *float32, n int)
	dots     func(x, y *float32, stride, n, m int, out *float32)
	axpyRows func(a, x *float32, stride, n, m int, y *float32)
	// firstAbove is FirstAbove for n a multiple of lanes (n where none is).
	firstAbove func(x *float32, n int, t float32) int
	// expSum8 is ExpSum8 and maxNaN MaxNaN for n a multiple of 16, or nil
	// where this kernel has none.
	expSum8 func(src *float32, n int, shift float32) [8]float64
	maxNaN  func(x *float32, n int) (m float32, nan bool)
	// relu is ReLU for n a multiple of lanes.
	relu func(dst, src *float32, n int)
	// sums16 is Stats' sixteen partial sums added in its tree (sums16
	// and tree16 in norm.go) and normalize Normalize, for n a multiple of
	// 16, or nil where this kernel has none.
	sums16    func(x *float32, n int, mean float64, sq bool) float64
	normalize func(x, gamma, beta, y *float32, n int, mean, rstd float64)
	lanes     int
}

// kernels lists the micro-kernels this processor runs, fastest first
// (kernel_amd64.go fills it from the CPU's features).
var kernels []*microKernel

// active is the micro-kernel in use: the first of kernels unless UseKernel
// chose another; nil where there is none.
var active atomic.Pointer[microKernel]

func init() {
	if len(kernels) > 0 {
		active.Store(kernels[0])
	}
}

// Available reports whether Sgemm runs an assembly micro-kernel here.
func Available() bool { return active.Load() != nil }

// Kernel names the micro-kernel in use ("avx512", "avx2"), or Pure where
// there is none.
func Kernel() string {
	if k := active.Load(); k != nil {
		return k.name
	}
	return Pure
}

// Kernels names the micro-kernels this processor runs, fastest first.
func Kernels() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// Pure names the absence of a micro-kernel: with UseKernel(Pure), Available
// reports false (callers then take a pure-Go path) and ExpShift uses Exp.
const Pure = "go"

// UseKernel makes the named micro-kernel (or Pure) the one every later
// product and exponential runs. It is meant for the start of a program or a
// test, not to be called while products run. It fails for a kernel this
// processor does not run.
func UseKernel(name string) error {
	if name == Pure {
		active.Store(nil)
		return nil
	}
	for _, k := range kernels {
		if k.name == name {
			active.Store(k)
			return nil
		}
	}
	have := strings.Join(append(Kernels(), Pure), ", ")
	return fmt.Errorf("no %q micro-kernel on this processor (it runs: %s)", name, have)
}

// Block sizes (GotoBLAS): a kc×nr panel of B stays in L1, an mc×kc block of
// A in L2, and a kc×nc block of B in L3. mc and nc are multiples of every
// kernel's mr and nr.
const (
	kc = 256
	mc = 96
	nc = 4096
	// maxTile bounds mr·nr over the kernels.
	maxTile = 12 * 32
)
