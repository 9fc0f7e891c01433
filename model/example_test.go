package model_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
)

// An encoder on its own: build its graph for 3 sequences of 5 positions,
// run it, and read the output.
func ExampleEncoder() {
	c := model.DefaultConfig()
	enc := model.NewEncoder("encoder", c)
	b := graph.NewBuilder(graph.NewStore(tensor.Float32, 1), false)
	x := graph.RandomInput(b, "x", 1, 3*5, c.DModel) // 3 sequences × 5 positions
	mask := b.Input("mask", 3, 1, 5, 5)              // nothing hidden
	h := enc.Forward(b, x, 3, 5, mask, nil)          // [15, d_model]
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Shape(), len(b.Params()), "parameter tensors")
	// Output: (15, 128) 34 parameter tensors
}
