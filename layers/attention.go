package layers

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// ScaledDotProductAttention computes
//
//	Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V
//
// ("Attention Is All You Need" §3.2.1) for q [B, H, Sq, Dh] and k, v
// [B, H, Sk, Dh]. mask is nil or an additive [B, 1, Sq, Sk] input (see
// graph.AttentionMask) holding 0 for visible keys and graph.MaskValue for
// hidden ones; a row whose keys are all hidden gets uniform weights, never
// NaN. bias is nil or an additive [1, H, Sq, Sk] score bias (see
// RelativeBias). Dropout with probability p is applied to the weights. It
// returns the context [B, H, Sq, Dh] and the attention weights
// [B, H, Sq, Sk].
func ScaledDotProductAttention(b *graph.Builder, q, k, v, mask, bias *G.Node, p float64) (ctx, weights *G.Node) {
	dh := q.Shape()[3]
	q = G.Must(G.Mul(q, b.Const(1/math.Sqrt(float64(dh)))))
	scores := G.Must(G.BatchedMatMul(q, k, false, true))
	if bias != nil {
		scores = G.Must(G.BroadcastAdd(scores, bias, nil, []byte{0}))
	}
	if mask != nil {
		scores = G.Must(G.BroadcastAdd(scores, mask, nil, []byte{1}))
	}
	weights = graph.SoftMax(scores)
	ctx = G.Must(G.BatchedMatMul(b.Dropout(weights, p), v))
	return ctx, weights
}
