package model

import "github.com/gotransformer/transformer/layers"

// Upper bounds of the model section's sizes. They are far above what a CPU
// trains, and keep every size product within int64 so that the parameter
// count and the memory estimate can be computed before anything is
// allocated; the memory estimate then decides what this machine can hold.
const (
	MaxDModel        = 16384
	MaxHeads         = 1024
	MaxLayers        = 256 // per stack
	MaxFFDim         = 1 << 17
	MaxPositions     = 1 << 16 // rows of a learned position table
	MaxVocab         = 1 << 20
	MaxWindow        = 1 << 16 // sliding-window attention
	MaxChunk         = 1 << 11 // chunked full attention: each CPU holds two chunk×chunk blocks
	MaxGlobalTokens  = 64      // global positions of sliding-window attention
	maxGlobalPosDist = 1 << 20
)

// ParamCount is the number of scalar parameters the model of c has,
// computed from the sizes alone (c.SrcVocab and c.TgtVocab must be set);
// it equals Transformer.ParamCounts()["total"] of the built model.
func (c Config) ParamCount() int64 {
	d, ff := int64(c.DModel), int64(c.FFDim)
	attn := 4*d*d + 4*d
	ffn := 2*d*ff + ff + d
	norm := 2 * d
	enc := int64(c.EncoderLayers) * (attn + ffn + 2*norm)
	dec := int64(c.DecoderLayers) * (2*attn + ffn + 3*norm)
	if c.FinalNorm {
		enc += norm
		dec += norm
	}
	n := enc + dec
	vs, vt := int64(c.SrcVocab), int64(c.TgtVocab)
	if c.ShareEmbeddings {
		n += vt * d
	} else {
		n += (vs + vt) * d
	}
	n += vt // output bias
	if !c.TieOutput {
		n += d * vt
	}
	for _, st := range []struct{ stack, kind string }{{"encoder", c.EncoderPositions()}, {"decoder", c.DecoderPositions()}} {
		if k, err := layers.Positions(st.kind); err == nil && k.Params != nil {
			n += k.Params(c.PositionParams(st.stack, ""))
		}
	}
	return n
}
