package layers

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

func init() {
	RegisterPositions("sinusoidal", PositionKind{Absolute: true,
		New: func(p PositionParams) (PositionalEncoding, error) {
			return Sinusoidal{Name: p.Name, DModel: p.DModel}, nil
		}})
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
