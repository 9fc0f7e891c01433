package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

func init() {
	RegisterPositions("learned", PositionKind{Absolute: true, UsesMaxLen: true,
		New: func(p PositionParams) (PositionalEncoding, error) {
			return LearnedPositions{Name: p.Name, DModel: p.DModel, Max: p.MaxLen}, nil
		},
		Params: func(p PositionParams) int64 { return int64(p.MaxLen) * int64(p.DModel) }})
}

// LearnedPositions is a trained table [Max, DModel] of position vectors
// (as in BERT and GPT).
type LearnedPositions struct {
	Name   string // parameter Name+".weight"
	DModel int
	Max    int
}

// MaxLen is the table's length.
func (l LearnedPositions) MaxLen() int { return l.Max }

// Encode adds rows 0..seqLen-1 of the table to every sequence. Position ids
// are a graph input filled here.
func (l LearnedPositions) Encode(b *graph.Builder, x *G.Node, batch, seqLen int) *G.Node {
	if seqLen > l.Max {
		panic(fmt.Sprintf("layers: sequence length %d exceeds the %d learned positions", seqLen, l.Max))
	}
	table := b.Param(l.Name+".weight", graph.Normal(0.02), l.Max, l.DModel)
	ids := b.IntInput(l.Name+".ids", batch*seqLen)
	pos := make([]int, batch*seqLen)
	for i := range pos {
		pos[i] = i % seqLen
	}
	G.Let(ids, tensor.New(tensor.WithShape(len(pos)), tensor.WithBacking(pos)))
	return G.Must(G.Add(x, G.Must(G.ByIndices(table, ids, 0))))
}
