package model

import (
	"fmt"
	"math"
)

// Run-time bounds of decoding. They keep the work and memory of one
// translation within O(MaxBeam · vocabulary · MaxDecodeLen) per sentence,
// whatever a user types or a config holds.
const (
	// MaxBeam is the widest beam search (translate --beam,
	// decoding.beam); the beam may not exceed the target vocabulary
	// either. NBest is at most the beam.
	MaxBeam = 256
	// MaxDecodeLen bounds the output tokens of one sentence:
	// decoding.max_len and decoding.max_len_b are at most this.
	MaxDecodeLen = 1024
	// MaxInputTokens bounds the source tokens of one sentence; a model
	// with learned positions takes at most its position table's rows
	// less one (for </s>), when that is fewer (Transformer.MaxSourceLen).
	MaxInputTokens = 1024
	// MaxAttentionTokens bounds the source tokens, and the output tokens,
	// of a sentence whose attention maps are drawn: the maps are n×n per
	// head and layer.
	MaxAttentionTokens = 256
)

// MaxSourceLen returns the most source tokens (not counting </s>) the
// model decodes in one sentence: MaxInputTokens, or fewer when the encoder
// has a learned position table with fewer rows.
func (m *Transformer) MaxSourceLen() int {
	n := MaxInputTokens
	if pm := m.SrcPos.MaxLen(); pm > 0 {
		n = min(n, pm-1)
	}
	return max(n, 0)
}

// MaxTargetLen returns the most output tokens (not counting </s>) the
// model produces for one sentence: MaxDecodeLen, or fewer when the decoder
// has a learned position table with fewer rows.
func (m *Transformer) MaxTargetLen() int {
	n := MaxDecodeLen
	if pm := m.TgtPos.MaxLen(); pm > 0 {
		n = min(n, pm-1)
	}
	return max(n, 0)
}

// Check reports the first option out of bounds, in one line naming the
// option by its key in a config's decoding section. Zero values, which
// mean the defaults, pass.
func (o DecodeOptions) Check() error {
	switch {
	case o.BatchSize < 0:
		return fmt.Errorf("batch_size: must not be negative, got %d", o.BatchSize)
	case !(o.MaxLenA >= 0) || math.IsInf(o.MaxLenA, 0):
		return fmt.Errorf("max_len_a: must be a finite number ≥ 0, got %g", o.MaxLenA)
	case o.MaxLenB < 0 || o.MaxLenB > MaxDecodeLen:
		return fmt.Errorf("max_len_b: must be in [0, %d], got %d", MaxDecodeLen, o.MaxLenB)
	case o.MaxLen < 0 || o.MaxLen > MaxDecodeLen:
		return fmt.Errorf("max_len: must be in [0, %d], got %d", MaxDecodeLen, o.MaxLen)
	case o.LenStep < 0 || o.LenStep > MaxInputTokens:
		return fmt.Errorf("len_step: must be in [0, %d], got %d", MaxInputTokens, o.LenStep)
	}
	return o.Sample.Check()
}

// Check reports the first option out of bounds for a model with tgtVocab
// target tokens (0: not checked against the vocabulary), in one line
// naming the option by its key in a config's decoding section. Zero
// values, which mean the defaults, pass.
func (o BeamOptions) Check(tgtVocab int) error {
	if err := o.DecodeOptions.Check(); err != nil {
		return err
	}
	switch {
	case o.Beam < 0:
		return fmt.Errorf("beam: must be positive (1: greedy), got %d", o.Beam)
	case o.Beam > MaxBeam:
		return fmt.Errorf("beam: must be at most %d, got %d", MaxBeam, o.Beam)
	case tgtVocab > 0 && o.Beam > tgtVocab:
		return fmt.Errorf("beam: must be at most the target vocabulary of %d tokens, got %d", tgtVocab, o.Beam)
	case o.NBest < 0:
		return fmt.Errorf("nbest: must be positive, got %d", o.NBest)
	case o.NBest > max(o.Beam, 1):
		return fmt.Errorf("nbest: %d exceeds the beam size %d", o.NBest, max(o.Beam, 1))
	case !(o.Alpha >= 0) || math.IsInf(o.Alpha, 0):
		return fmt.Errorf("length_penalty: must be a finite number ≥ 0, got %g", o.Alpha)
	}
	return nil
}
