package layers

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// PositionalEncoding adds position information to token embeddings.
// Implementations: Sinusoidal and LearnedPositions.
type PositionalEncoding interface {
	// Encode returns x [batch·seqLen, DModel] with positions 0..seqLen-1 of
	// every sequence added.
	Encode(b *graph.Builder, x *G.Node, batch, seqLen int) *G.Node
	// MaxLen is the longest sequence the encoding supports (0: unbounded).
	MaxLen() int
}

// PositionKinds lists the positional encodings a config may name.
// "relative" adds nothing to the embeddings: the stack's self-attention
// gets a RelativeBias instead.
var PositionKinds = []string{"sinusoidal", "learned", "relative"}

// NewPositions returns the positional encoding called kind.
func NewPositions(kind, name string, dModel, maxLen int) (PositionalEncoding, error) {
	switch kind {
	case "relative":
		return NoPositions{}, nil
	case "sinusoidal":
		return Sinusoidal{Name: name, DModel: dModel}, nil
	case "learned":
		return LearnedPositions{Name: name, DModel: dModel, Max: maxLen}, nil
	}
	return nil, fmt.Errorf("unknown positional encoding %q (want one of %v)", kind, PositionKinds)
}

// Sinusoidal is the fixed encoding of "Attention Is All You Need" §3.5:
//
//	PE(pos, 2i)   = sin(pos / 10000^(2i/d))
//	PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
type Sinusoidal struct {
	Name   string // names the table input of each graph
	DModel int
}

// MaxLen is 0: the sinusoidal table extends to any length.
func (Sinusoidal) MaxLen() int { return 0 }

// SinusoidalTable returns PE for positions 0..n-1 as n·d float64 values.
func SinusoidalTable(n, d int) []float64 {
	v := make([]float64, n*d)
	for pos := 0; pos < n; pos++ {
		for i := 0; i < d; i += 2 {
			angle := float64(pos) / math.Pow(10000, float64(i)/float64(d))
			v[pos*d+i] = math.Sin(angle)
			if i+1 < d {
				v[pos*d+i+1] = math.Cos(angle)
			}
		}
	}
	return v
}

// Encode adds the table, tiled over the batch. The table is a graph input
// that the builder fills once; callers that re-bind inputs per run must
// re-bind it too (see model.Runner).
func (s Sinusoidal) Encode(b *graph.Builder, x *G.Node, batch, seqLen int) *G.Node {
	pe := b.Input(s.Name+".table", batch*seqLen, s.DModel)
	row := SinusoidalTable(seqLen, s.DModel)
	tiled := make([]float64, 0, batch*len(row))
	for i := 0; i < batch; i++ {
		tiled = append(tiled, row...)
	}
	G.Let(pe, graph.FromFloat64s(b.Dtype(), tiled, batch*seqLen, s.DModel))
	return G.Must(G.Add(x, pe))
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

// NoPositions adds nothing: for stacks whose attention carries positions
// itself (a relative-position bias).
type NoPositions struct{}

// Encode returns x unchanged.
func (NoPositions) Encode(_ *graph.Builder, x *G.Node, _, _ int) *G.Node { return x }

// MaxLen is 0: no limit.
func (NoPositions) MaxLen() int { return 0 }
