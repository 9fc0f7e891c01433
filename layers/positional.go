package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// PositionalEncoding gives a stack position information. Every kind adds
// something (possibly nothing) to the token embeddings; kinds that act
// inside self-attention also implement QueryKeyPositions or
// ScorePositions, and MultiHeadAttention.Self applies them.
type PositionalEncoding interface {
	// Encode returns x [batch·seqLen, DModel] with positions 0..seqLen-1 of
	// every sequence added.
	Encode(b *graph.Builder, x *G.Node, batch, seqLen int) *G.Node
	// MaxLen is the longest sequence the encoding supports (0: unbounded).
	MaxLen() int
}

// QueryKeyPositions is a PositionalEncoding that transforms the projected
// queries and keys of self-attention, such as rotary embeddings.
type QueryKeyPositions interface {
	// QueryKey returns q and k [batch·seqLen, DModel] (rows of all heads
	// side by side) with positions applied.
	QueryKey(b *graph.Builder, q, k *G.Node, batch, seqLen int) (*G.Node, *G.Node)
}

// ScorePositions is a PositionalEncoding that adds a bias to the attention
// scores of self-attention, such as T5's relative-position bias. It needs
// full attention, which forms the scores.
type ScorePositions interface {
	// ScoreBias returns the bias [1, Heads, sq, sk].
	ScoreBias(b *graph.Builder, sq, sk int) *G.Node
}

// PositionParams are what a positional encoding may be built from.
type PositionParams struct {
	// Name names the encoding's inputs and parameters on the embedding
	// side ("src_pos"); Stack names those shared by the stack's attention
	// layers ("encoder").
	Name, Stack   string
	DModel, Heads int
	// MaxLen is the model's max_positions.
	MaxLen int
	// Buckets and MaxDistance size a relative-position bias.
	Buckets, MaxDistance int
	// Causal is set for the decoder stack.
	Causal bool
}

// PositionKind is a registered positional scheme.
type PositionKind struct {
	// New builds the encoding; it reports parameters it cannot use.
	New func(p PositionParams) (PositionalEncoding, error)
	// Absolute kinds add a table to the embeddings and nothing else; the
	// graph-free incremental decoder computes only those (others decode by
	// recomputing the prefix).
	Absolute bool
	// UsesMaxLen kinds are sized by max_positions.
	UsesMaxLen bool
	// Params counts the encoding's parameters (nil: none).
	Params func(p PositionParams) int64
	// Check reports parameters the kind cannot use, as a *KeyError naming
	// the config key (nil: it accepts all).
	Check func(p PositionParams) error
}

// KeyError is a problem with one model-config key of a registered kind.
type KeyError struct{ Key, Msg string }

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

var positionKinds = newRegistry[PositionKind]("positions")

// RegisterPositions makes a positional scheme available under name (a
// config's positions). It panics if name is taken: kinds register from
// init functions.
func RegisterPositions(name string, k PositionKind) {
	positionKinds.add(name, k)
}

// PositionKindNames lists the registered schemes in order.
func PositionKindNames() []string { return positionKinds.names() }

// Positions returns the registered scheme called name.
func Positions(name string) (PositionKind, error) {
	k, ok := positionKinds.kinds[name]
	if !ok {
		return PositionKind{}, fmt.Errorf("unknown positional encoding %q (want one of %v)", name, PositionKindNames())
	}
	return k, nil
}

// NewPositions builds the positional encoding called kind.
func NewPositions(kind string, p PositionParams) (PositionalEncoding, error) {
	k, err := Positions(kind)
	if err != nil {
		return nil, err
	}
	return k.New(p)
}

// NoPositions adds nothing to the embeddings: for kinds whose positions act
// inside attention only.
type NoPositions struct{}

// Encode returns x unchanged.
func (NoPositions) Encode(_ *graph.Builder, x *G.Node, _, _ int) *G.Node { return x }

// MaxLen is 0: no limit.
func (NoPositions) MaxLen() int { return 0 }
