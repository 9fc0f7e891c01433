package f32

import (
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// eachKernel runs f once with every micro-kernel this processor has, each
// forced in turn, and skips where there is none.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if len(kernels) == 0 {
		t.Skip("no micro-kernel on this processor")
	}
	defer active.Store(active.Load())
	for _, name := range Kernels() {
		if err := UseKernel(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// eachKernelB is eachKernel for benchmarks.
func eachKernelB(b *testing.B, f func(b *testing.B)) {
	if len(kernels) == 0 {
		b.Skip("no micro-kernel on this processor")
	}
	defer active.Store(active.Load())
	for _, name := range Kernels() {
		if err := UseKernel(name); err != nil {
			b.Fatal(err)
		}
		b.Run(name, f)
	}
}

// TestKernelsFollowCPU checks that every kernel the processor's features
// allow is on the list, fastest first, so that the tests above run each of
// them on a machine that has it.
func TestKernelsFollowCPU(t *testing.T) {
	var want []string
	if runtime.GOARCH == "amd64" && !purego {
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW {
			want = append(want, "avx512")
		}
		if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
			want = append(want, "avx2")
		}
	}
	if got := Kernels(); !slices.Equal(got, want) {
		t.Fatalf("kernels %v, want %v for this CPU", got, want)
	}
	if len(want) == 0 {
		want = append(want, Pure)
	}
	if Kernel() != want[0] {
		t.Fatalf("kernel in use %q, want the fastest, %q", Kernel(), want[0])
	}
	t.Logf("kernels on this CPU: %v", want)
}

func TestUseKernelUnknown(t *testing.T) {
	before := Kernel()
	err := UseKernel("sse2")
	if err == nil {
		t.Fatal("UseKernel(sse2) succeeded")
	}
	if Kernel() != before {
		t.Fatalf("a failed UseKernel changed the kernel from %q to %q", before, Kernel())
	}
	t.Log(err)
	defer active.Store(active.Load())
	if err := UseKernel(Pure); err != nil || Available() || Kernel() != Pure {
		t.Fatalf("UseKernel(Pure): %v, Available %v, Kernel %q", err, Available(), Kernel())
	}
	dst := make([]float32, 20)
	ExpShift(dst, make([]float32, 20), 0)
	if dst[19] != 1 {
		t.Fatalf("ExpShift without a kernel: e^0 = %v", dst[19])
	}
}
