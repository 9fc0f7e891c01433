package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Linear attention (Katharopoulos et al. 2020): φ(q)·Σφ(k)vᵀ with
// φ = elu + 1, computed with running sums in O(n) by graph.LinearAttention;
// no weights are formed.
func init() {
	RegisterAttention(LinearKernel, AttentionKind{
		Attend: func(_ *graph.Builder, q, k, v, pad *G.Node, s AttentionSpec) *G.Node {
			return graph.LinearAttention(graph.EluPlusOne(q), graph.EluPlusOne(k), v, pad, s.Causal)
		},
		Keys:       func(int, AttentionSpec) int { return 0 },
		GradChecks: []AttentionSpec{{Kind: LinearKernel}},
	})
}
