package graph

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A kernel is what each fused op defines: its arity, type, result shape,
// forward computation and a name that holds every parameter (Gorgonia
// merges nodes whose ops hash alike, so two ops that compute differently
// must have different names). A differentiable kernel also has DiffWRT
// and SymDiff. apply wraps a kernel into a Gorgonia Op with the methods
// every fused op shares, so that no op repeats them.
type kernel interface {
	Arity() int
	Type() hm.Type
	InferShape(...G.DimSizer) (tensor.Shape, error)
	Do(...G.Value) (G.Value, error)
	String() string
}

// differentiable is the part of G.SDOp a kernel adds to have a gradient.
type differentiable interface {
	DiffWRT(inputs int) []bool
	SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error)
}

// fused is a kernel as a Gorgonia Op: its result is a fresh value (no
// pointer into an input), it calls no external code, it overwrites no
// input, and it hashes by its name.
type fused struct{ kernel }

func (fused) ReturnsPtr() bool         { return false }
func (fused) CallsExtern() bool        { return false }
func (fused) OverwritesInput() int     { return -1 }
func (op fused) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op fused) Hashcode() uint32      { return hashOf(op) }

// fusedSD is a fused op with a gradient.
type fusedSD struct {
	fused
	differentiable
}

// apply adds the op of kernel k on args to their graph.
func apply(k kernel, args ...*G.Node) (*G.Node, error) {
	if d, ok := k.(differentiable); ok {
		return G.ApplyOp(fusedSD{fused{k}, d}, args...)
	}
	return G.ApplyOp(fused{k}, args...)
}

// sameType is the type of an op whose n inputs and result share one type.
func sameType(n int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, n+1)
	for i := range ts {
		ts[i] = a
	}
	return hm.NewFnType(ts...)
}

// firstShape is the shape of an op whose result is shaped as its first
// input.
func firstShape(in []G.DimSizer) (tensor.Shape, error) { return in[0].(tensor.Shape).Clone(), nil }

func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}
