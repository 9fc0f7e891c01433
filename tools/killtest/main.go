// Command killtest compares the latest weights of two run directories
// bitwise; killtest.sh uses it to check that a run killed and resumed many
// times ends exactly where an uninterrupted run does.
//
//	go run ./tools/killtest RUN_A RUN_B
package main

import (
	"fmt"
	"math"
	"os"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/rundir"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: killtest RUN_A RUN_B")
		os.Exit(2)
	}
	a, err := rundir.LoadCheckpoint(os.Args[1], "last")
	if err != nil {
		fail(err)
	}
	b, err := rundir.LoadCheckpoint(os.Args[2], "last")
	if err != nil {
		fail(err)
	}
	if a.State.Step != b.State.Step {
		fail(fmt.Errorf("latest checkpoints are at steps %d and %d", a.State.Step, b.State.Step))
	}
	values := 0
	for _, n := range a.Model.Store.Names() {
		x, y := graph.Float64s(a.Model.Store.Get(n)), graph.Float64s(b.Model.Store.Get(n))
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				fail(fmt.Errorf("step %d: %s[%d] differs: %v vs %v", a.State.Step, n, i, x[i], y[i]))
			}
		}
		values += len(x)
	}
	fmt.Printf("bitwise identical at step %d: %d tensors, %d values\n", a.State.Step, a.Model.Store.Len(), values)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "killtest:", err)
	os.Exit(1)
}
