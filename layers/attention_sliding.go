package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Sliding-window attention (Longformer, Beltagy et al. 2020): each query
// sees Window keys on each side and the Global positions, which also see
// every key; computed on the band, O(n·w), by graph.BandAttention.
func init() {
	RegisterAttention(SlidingWindow, AttentionKind{
		Attend: func(_ *graph.Builder, q, k, v, pad *G.Node, s AttentionSpec) *G.Node {
			return graph.BandAttention(q, k, v, pad, graph.Band{Window: s.Window, Global: s.Global, Causal: s.Causal})
		},
		Check: func(s AttentionSpec) error {
			if s.Window <= 0 {
				return fmt.Errorf("%s attention needs a positive window, got %d", SlidingWindow, s.Window)
			}
			for _, g := range s.Global {
				if g < 0 {
					return fmt.Errorf("global position %d is negative", g)
				}
			}
			return nil
		},
		Keys:       func(n int, s AttentionSpec) int { return min(n, 2*s.Window+1+len(s.Global)) },
		GradChecks: []AttentionSpec{{Kind: SlidingWindow, Window: 1, Global: []int{0}}},
	})
}
