package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Attention kinds a stack's self-attention can use. Each registers itself
// with RegisterAttention in its own file; a config's attention.kind names
// one.
const (
	FullAttention = "full"           // every query sees every key: O(n²)
	SlidingWindow = "sliding_window" // a band of keys plus global positions: O(n·w)
	LinearKernel  = "linear"         // φ(q)·Σφ(k)vᵀ with φ = elu+1: O(n)
)

// AttentionSpec chooses how self-attention computes its weights. The zero
// value is full attention.
type AttentionSpec struct {
	Kind   string // a registered kind; "" is FullAttention
	Window int    // keys on each side of the query (SlidingWindow)
	Global []int  // positions that see and are seen by all (SlidingWindow)
	Causal bool   // hide keys after the query (decoder self-attention)
	// Chunk computes full attention in blocks of Chunk queries against
	// Chunk keys with an online softmax (graph.ChunkedAttention), never
	// forming the n×n weights; 0 forms them at once.
	Chunk int
}

// AttentionKind is a registered way of computing self-attention from the
// projected heads.
type AttentionKind struct {
	// Attend returns the context [batch, Heads, s, Dh] of the heads q, k
	// and v [batch, Heads, s, Dh]; pad [batch, s] holds graph.MaskValue at
	// padding keys. It may create parameters, constants and dropout masks
	// with b. Nil for full attention, which forms the masked n×n weights
	// itself (and so can return them, add a score bias and use the fused
	// graph.Attention op).
	Attend func(b *graph.Builder, q, k, v, pad *G.Node, s AttentionSpec) *G.Node
	// Check reports options the kind cannot compute (nil: it has none).
	Check func(s AttentionSpec) error
	// Keys is how many keys each query of an n-token sequence reads, for
	// memory estimates (nil: n; 0 for kinds that never form weights).
	Keys func(n int, s AttentionSpec) int
	// GradChecks are small specs the gradient checks run (the causal
	// variant of each is checked too).
	GradChecks []AttentionSpec
}

var attentionKinds = newRegistry[AttentionKind]("attention kind")

// RegisterAttention makes an attention kind available under name (a
// config's attention.kind). It panics if name is taken: kinds register
// from init functions.
func RegisterAttention(name string, k AttentionKind) {
	attentionKinds.add(name, k)
}

// AttentionKindNames lists the registered kinds in order.
func AttentionKindNames() []string { return attentionKinds.names() }

// Attention returns the registered kind of the spec.
func (s AttentionSpec) Attention() (AttentionKind, error) {
	name := s.Kind
	if name == "" {
		name = FullAttention
	}
	k, ok := attentionKinds.kinds[name]
	if !ok {
		return AttentionKind{}, fmt.Errorf("unknown attention kind %q (want one of %v)", s.Kind, AttentionKindNames())
	}
	return k, nil
}

// IsFull reports whether the spec is ordinary full attention.
func (s AttentionSpec) IsFull() bool { return s.Kind == "" || s.Kind == FullAttention }

// Check reports a spec that cannot be computed.
func (s AttentionSpec) Check() error {
	k, err := s.Attention()
	if err != nil {
		return err
	}
	if s.Chunk < 0 {
		return fmt.Errorf("chunk must be positive (or 0 for none), got %d", s.Chunk)
	}
	if s.Chunk > 0 && !s.IsFull() {
		return fmt.Errorf("only %s attention is computed in chunks; %s attention never forms the n×n weights", FullAttention, s.Kind)
	}
	if k.Check != nil {
		return k.Check(s)
	}
	if s.Window != 0 || len(s.Global) > 0 {
		return fmt.Errorf("only %s attention has a window and global positions", SlidingWindow)
	}
	return nil
}

// Keys is how many keys each query of an n-token sequence reads.
func (s AttentionSpec) Keys(n int) int {
	k, err := s.Attention()
	if err != nil || k.Keys == nil {
		return n
	}
	return k.Keys(n, s)
}

// Chunked reports whether self-attention of this spec in b's graph is the
// chunked op: full attention with a chunk, unless b builds the weights as
// a node (attention maps) or the composed reference, which form them.
func (s AttentionSpec) Chunked(b *graph.Builder) bool {
	return s.IsFull() && s.Chunk > 0 && !b.Weights && !b.Composed
}

// NeedsMask reports whether self-attention of this spec in b's graph
// reads the additive n×n mask (graph.AttentionMask); every other form
// reads the key padding alone.
func (s AttentionSpec) NeedsMask(b *graph.Builder) bool { return s.IsFull() && !s.Chunked(b) }

func init() {
	RegisterAttention(FullAttention, AttentionKind{
		Keys: func(n int, s AttentionSpec) int {
			if s.Chunk > 0 {
				return 0 // blocks per worker, none per token
			}
			return n
		},
		GradChecks: []AttentionSpec{{}, {Chunk: 2}},
	})
}
