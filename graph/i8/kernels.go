package i8

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// tileRows is the number of rows of x a kernel call takes.
const tileRows = 4

// A kernel sums a tile: acc[r·64 + c] = Σ_p x[r·ldx + p] · Q(p, c) for 4
// rows of x and one packed 64-column block w, k4 values a row.
type kernel struct {
	name string
	// unsigned kernels take x + 128 as unsigned bytes (VPDPBUSD); their
	// sums exceed the signed ones by 128·Σ_p Q(p, c).
	unsigned bool
	tile     func(k4 int, x []int8, ldx int, w []int8, acc *[tileRows * blockCols]int32)
	// scaled, where a kernel has it, is tile with the scaling to float32
	// of blocks fused, for whole tiles (4 rows, 64 columns).
	scaled func(k4 int, x []int8, ldx int, w []int8, e *epilogue)
}

// epilogue is what a fused kernel scales a tile with: C[r, c] =
// float32(acc[r, c] + corr[c]) · xs[r] · scale[c] + bias[c], at c + r·ldc.
// Its layout is read by the assembly.
type epilogue struct {
	corr  *int32
	scale *float32
	bias  *float32
	xs    *float32
	c     *float32
	ldc   int
}

// Pure is the name of the scalar kernel, which every processor runs.
const Pure = "go"

// kernels lists the kernels this processor runs, fastest first; the scalar
// one is last.
var kernels = append(archKernels(), kernel{name: Pure, tile: tileGo})

// active is the kernel in use.
var active atomic.Pointer[kernel]

func init() { active.Store(&kernels[0]) }

// Kernel names the kernel in use.
func Kernel() string { return active.Load().name }

// Kernels names the kernels this processor runs, fastest first.
func Kernels() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// UseKernel makes the named kernel the one later products run; it fails,
// changing nothing, for a kernel this processor lacks. Call it before
// products run, not beside them.
func UseKernel(name string) error {
	for i := range kernels {
		if kernels[i].name == name {
			active.Store(&kernels[i])
			return nil
		}
	}
	return fmt.Errorf("no %q int8 kernel on this processor (it runs: %s)", name, strings.Join(Kernels(), ", "))
}

// tileGo is the scalar kernel, the reference of the others.
func tileGo(k4 int, x []int8, ldx int, w []int8, acc *[tileRows * blockCols]int32) {
	for r := 0; r < tileRows; r++ {
		row := x[r*ldx : r*ldx+k4]
		for c := 0; c < blockCols; c++ {
			var s int32
			for p, v := range row {
				s += int32(v) * int32(w[(p/4)*4*blockCols+c*4+p%4])
			}
			acc[r*blockCols+c] = s
		}
	}
}
