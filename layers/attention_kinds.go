package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Attention kinds a stack's self-attention can use.
const (
	FullAttention = "full"           // every query sees every key: O(n²)
	SlidingWindow = "sliding_window" // a band of keys plus global positions: O(n·w)
	LinearKernel  = "linear"         // φ(q)·Σφ(k)vᵀ with φ = elu+1: O(n)
)

// AttentionKinds lists the kinds a config may name.
var AttentionKinds = []string{FullAttention, SlidingWindow, LinearKernel}

// AttentionSpec chooses how self-attention computes its weights. The zero
// value is full attention.
type AttentionSpec struct {
	Kind   string // FullAttention ("" too), SlidingWindow or LinearKernel
	Window int    // keys on each side of the query (SlidingWindow)
	Global []int  // positions that see and are seen by all (SlidingWindow)
	Causal bool   // hide keys after the query (decoder self-attention)
}

// IsFull reports whether the spec is ordinary full attention.
func (s AttentionSpec) IsFull() bool { return s.Kind == "" || s.Kind == FullAttention }

// Check reports a spec that cannot be computed.
func (s AttentionSpec) Check() error {
	switch s.Kind {
	case "", FullAttention, LinearKernel:
		if s.Window != 0 || len(s.Global) > 0 {
			return fmt.Errorf("only %s attention has a window and global positions", SlidingWindow)
		}
	case SlidingWindow:
		if s.Window <= 0 {
			return fmt.Errorf("%s attention needs a positive window, got %d", SlidingWindow, s.Window)
		}
		for _, g := range s.Global {
			if g < 0 {
				return fmt.Errorf("global position %d is negative", g)
			}
		}
	default:
		return fmt.Errorf("unknown attention kind %q (want one of %v)", s.Kind, AttentionKinds)
	}
	return nil
}

// sparseSelf attends from the heads q to k and v [batch, Heads, s, Dh]
// with a non-full kind; pad [batch, s] marks padding keys with
// graph.MaskValue. Dropout on attention weights does not apply: the weights
// are never formed.
func (s AttentionSpec) sparseSelf(q, k, v, pad *G.Node) *G.Node {
	switch s.Kind {
	case SlidingWindow:
		return graph.BandAttention(q, k, v, pad, graph.Band{Window: s.Window, Global: s.Global, Causal: s.Causal})
	case LinearKernel:
		return graph.LinearAttention(graph.EluPlusOne(q), graph.EluPlusOne(k), v, pad, s.Causal)
	}
	panic(fmt.Sprintf("layers: attention kind %q has no sparse form", s.Kind))
}

// RelativeBias is the learned relative-position bias of T5 (Raffel et al.,
// 2020): one scalar per head and distance bucket, added to the attention
// scores. Stacks share one table across their layers.
type RelativeBias struct {
	Name          string // parameter Name+".weight" [Heads, Buckets]
	Heads         int
	Buckets       int
	MaxDistance   int
	Bidirectional bool // encoder: keys before and after the query differ
}

// Forward returns the bias [1, Heads, sq, sk] for sq queries and sk keys.
func (r RelativeBias) Forward(b *graph.Builder, sq, sk int) *G.Node {
	table := b.Param(r.Name+".weight", graph.Normal(0.02), r.Heads, r.Buckets)
	return graph.RelativeBias(table, sq, sk, r.Bidirectional, r.MaxDistance)
}
