package bench

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
)

func TestMemProfTmp(t *testing.T) {
	if os.Getenv("MEMPROF") == "" {
		t.Skip()
	}
	runtime.MemProfileRate = 64 << 10
	o := DefaultOptions()
	o.DModel, o.Heads, o.Layers, o.FF, o.Vocab = 256, 4, 3, 1024, 10000
	o.Steps, o.Warmup = 3, 1
	if _, err := Run(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(os.Getenv("MEMPROF"))
	pprof.Lookup("allocs").WriteTo(f, 0)
	f.Close()
}
