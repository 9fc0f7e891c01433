package graph

// opBase holds the Gorgonia Op methods every fused op shares: its result is
// a fresh value (no pointer into an input), it calls no external code, and
// it overwrites no input. Each op embeds it and adds Arity, Type,
// InferShape, String, WriteHash, Hashcode, Do and, for differentiable
// ops, DiffWRT and SymDiff.
type opBase struct{}

func (opBase) ReturnsPtr() bool     { return false }
func (opBase) CallsExtern() bool    { return false }
func (opBase) OverwritesInput() int { return -1 }
