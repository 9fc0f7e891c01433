//go:build mpi

// Command allreduce times MPI_Allreduce (float32 sum, in place) over
// buffers of 1 KiB to 64 MiB, for fitting the all-reduce cost model of
// docs/distributed.md. Rank 0 prints one JSON line per size:
//
//	CGO_ENABLED=1 go build -tags mpi -o /tmp/allreduce ./tools/allreduce
//	mpirun --oversubscribe -np 2 /tmp/allreduce
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/gotransformer/transformer/dist"
)

func main() {
	c, err := dist.World()
	if err != nil {
		fmt.Fprintln(os.Stderr, "allreduce:", err)
		os.Exit(1)
	}
	for n := 256; n <= 16<<20; n *= 4 {
		buf := make([]float32, n)
		reps := max(5, min(200, (64<<20)/(4*n)))
		var times []float64
		for r := 0; r < reps+2; r++ {
			start := time.Now()
			if err := c.SumFloat32(buf); err != nil {
				fmt.Fprintln(os.Stderr, "allreduce:", err)
				c.Abort(1)
			}
			if r >= 2 { // two warm-up calls
				times = append(times, time.Since(start).Seconds())
			}
		}
		sort.Float64s(times)
		if c.Rank() == 0 {
			b, _ := json.Marshal(map[string]any{"ranks": c.Size(), "bytes": 4 * n, "seconds_median": times[len(times)/2], "reps": reps})
			fmt.Println(string(b))
		}
	}
	c.Close()
}
