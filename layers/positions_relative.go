package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

func init() {
	RegisterPositions("relative", PositionKind{
		New: func(p PositionParams) (PositionalEncoding, error) {
			return RelativeBias{Name: p.Stack + ".relative_bias", Heads: p.Heads, Buckets: p.Buckets,
				MaxDistance: p.MaxDistance, Bidirectional: !p.Causal}, nil
		},
		Params: func(p PositionParams) int64 { return int64(p.Heads) * int64(p.Buckets) },
		Check: func(p PositionParams) error {
			if p.Buckets < 4 || p.Buckets > MaxRelBuckets {
				return &KeyError{"relative_buckets", fmt.Sprintf("must be in [4, %d], got %d", MaxRelBuckets, p.Buckets)}
			}
			if p.MaxDistance < p.Buckets || p.MaxDistance > MaxRelDistance {
				return &KeyError{"relative_max_distance", fmt.Sprintf("must be at least relative_buckets (%d) and at most %d, got %d", p.Buckets, MaxRelDistance, p.MaxDistance)}
			}
			return nil
		}})
}

// Bounds of the relative-position bias's sizes.
const (
	MaxRelBuckets  = 1024
	MaxRelDistance = 1 << 20
)

// RelativeBias is the learned relative-position bias of T5 (Raffel et al.,
// 2020): one scalar per head and distance bucket, added to the attention
// scores. Stacks share one table across their layers; nothing is added to
// the embeddings.
type RelativeBias struct {
	NoPositions
	Name          string // parameter Name+".weight" [Heads, Buckets]
	Heads         int
	Buckets       int
	MaxDistance   int
	Bidirectional bool // encoder: keys before and after the query differ
}

// ScoreBias returns the bias [1, Heads, sq, sk] for sq queries and sk keys.
func (r RelativeBias) ScoreBias(b *graph.Builder, sq, sk int) *G.Node {
	table := b.Param(r.Name+".weight", graph.Normal(0.02), r.Heads, r.Buckets)
	return graph.RelativeBias(table, sq, sk, r.Bidirectional, r.MaxDistance)
}
