package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func init() {
	// With the pool on, unbinding a value returns its *tensor.Dense to a
	// pool for reuse, which is unsafe when two nodes share one tensor. With
	// it off, Release just drops references and the garbage collector
	// reclaims the memory.
	tensor.DontUsePool()
}

// Release drops the values a run left in vm's registers and on g's computed
// nodes (activations and gradients), keeping inputs and parameters, so that
// a cached graph holds no activation memory between runs. Copy anything you
// keep first.
func Release(g *G.ExprGraph, vm G.VM) {
	vm.Reset()
	g.UnbindAllNonInputs()
}
