package graph

import "gorgonia.org/tensor"

// MaskValue is the additive score given to a masked key. It is finite so that
// a query whose keys are all masked gets a uniform distribution rather than
// NaN, and it is safe in float32.
const MaskValue = -1e9

// AttentionMask builds the additive mask [batch, 1, sq, sk] used by attention
// (the 1 broadcasts over heads):
// 0 where query i may attend to key j, MaskValue elsewhere. keyPad, of length
// batch·sk (nil for none), marks padded keys; causal additionally hides keys
// j > i (the "subsequent" mask of the Annotated Transformer).
func AttentionMask(dt tensor.Dtype, batch, sq, sk int, keyPad []bool, causal bool) *tensor.Dense {
	t := Zeroed(dt, batch, 1, sq, sk)
	FillAttentionMask(t, keyPad, causal)
	return t
}

// FillAttentionMask writes the mask described by AttentionMask into an
// existing [batch, 1, sq, sk] tensor.
func FillAttentionMask(t *tensor.Dense, keyPad []bool, causal bool) {
	sh := t.Shape()
	batch, sq, sk := sh[0], sh[2], sh[3]
	masked := func(b, i, j int) bool {
		return (keyPad != nil && keyPad[b*sk+j]) || (causal && j > i)
	}
	switch d := t.Data().(type) {
	case []float32:
		for b := 0; b < batch; b++ {
			for i := 0; i < sq; i++ {
				for j := 0; j < sk; j++ {
					v := float32(0)
					if masked(b, i, j) {
						v = MaskValue
					}
					d[(b*sq+i)*sk+j] = v
				}
			}
		}
	case []float64:
		for b := 0; b < batch; b++ {
			for i := 0; i < sq; i++ {
				for j := 0; j < sk; j++ {
					v := 0.0
					if masked(b, i, j) {
						v = MaskValue
					}
					d[(b*sq+i)*sk+j] = v
				}
			}
		}
	}
}

// KeyPadding builds the additive key padding [batch, s] used by
// sliding-window and linear attention: MaskValue where keyPad (length
// batch·s, nil for none) marks padding, 0 elsewhere.
func KeyPadding(dt tensor.Dtype, batch, s int, keyPad []bool) *tensor.Dense {
	v := make([]float64, batch*s)
	for i, p := range keyPad {
		if p {
			v[i] = MaskValue
		}
	}
	return FromFloat64s(dt, v, batch, s)
}
