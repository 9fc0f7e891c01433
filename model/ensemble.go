package model

import (
	"fmt"
	"math"
)

// NewEnsemble returns a Translator that decodes with several models at
// once (greedy or beam search): at every step each model scores the next
// token given the same prefix, and their log-probabilities are averaged.
// The models must share the target vocabulary (they are checkpoints of one
// run, or runs with the same tokenizers) and decode incrementally; the
// first model's limits and source positions bound the input. Close the
// members, not the ensemble.
func NewEnsemble(members ...*Translator) (*Translator, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("model: an ensemble needs at least one model")
	}
	first := members[0].Model.Config
	for i, m := range members {
		c := m.Model.Config
		switch {
		case c.TgtVocab != first.TgtVocab || c.SrcVocab != first.SrcVocab:
			return nil, fmt.Errorf("model %d of the ensemble has vocabularies of %d and %d tokens, model 1 %d and %d: ensembles need the same", i+1, c.SrcVocab, c.TgtVocab, first.SrcVocab, first.TgtVocab)
		case !c.IncrementalDecoding():
			return nil, fmt.Errorf("model %d of the ensemble does not decode incrementally (its decoder's attention or positions): ensembles need it", i+1)
		}
	}
	if len(members) == 1 {
		return members[0], nil
	}
	return &Translator{Model: members[0].Model, cache: members[0].cache, members: members}, nil
}

// stepRunner is a stepper of any weight type.
type stepRunner interface {
	step(tok []int, pos int)
	scores(buf []float64) []float64
	reorder(parents []int)
}

// runner encodes src and returns the translator's incremental decoder.
func (t *Translator) runner(src []int, rows, group, srcLen int) (stepRunner, error) {
	memory, err := t.EncodeBatch(src, rows/group, srcLen)
	if err != nil {
		return nil, err
	}
	switch mem := memory.Data().(type) {
	case []float32:
		s := newStepper(t.Model, rows, group, srcLen, mem, src, recycled[float32](&t.arrays))
		s.pool = &t.arrays
		return s, nil
	case []float64:
		s := newStepper(t.Model, rows, group, srcLen, mem, src, recycled[float64](&t.arrays))
		s.pool = &t.arrays
		return s, nil
	}
	return nil, fmt.Errorf("model: incremental decoding of %v weights is not supported", memory.Dtype())
}

// ensemble steps the members of an ensemble together; its scores are
// their log-probabilities averaged.
type ensemble struct {
	runners     []stepRunner
	rows, vocab int
	buf, avg    []float64
}

// ensembleRunner encodes src with every member and returns their joint
// incremental decoder.
func (t *Translator) ensembleRunner(src []int, rows, group, srcLen int) (stepRunner, error) {
	e := &ensemble{rows: rows, vocab: t.Model.Config.TgtVocab}
	for _, member := range t.members {
		r, err := member.runner(src, rows, group, srcLen)
		if err != nil {
			return nil, err
		}
		e.runners = append(e.runners, r)
	}
	return e, nil
}

func (e *ensemble) step(tok []int, pos int) {
	if n := e.rows * e.vocab; cap(e.avg) < n {
		e.avg = make([]float64, n)
	} else {
		e.avg = e.avg[:n]
		clear(e.avg)
	}
	for _, r := range e.runners {
		r.step(tok, pos)
		e.buf = r.scores(e.buf)
		for row := 0; row < e.rows; row++ {
			addLogSoftmax(e.avg[row*e.vocab:(row+1)*e.vocab], e.buf[row*e.vocab:(row+1)*e.vocab], 1/float64(len(e.runners)))
		}
	}
}

func (e *ensemble) scores(buf []float64) []float64 { return append(buf[:0], e.avg...) }

// release releases the members' decoders.
func (e *ensemble) release() {
	for _, r := range e.runners {
		if u, ok := r.(interface{ release() }); ok {
			u.release()
		}
	}
}

func (e *ensemble) reorder(parents []int) {
	for _, r := range e.runners {
		r.reorder(parents)
	}
}

// addLogSoftmax adds w·log-softmax(x) to dst.
func addLogSoftmax(dst, x []float64, w float64) {
	top := math.Inf(-1)
	for _, v := range x {
		top = math.Max(top, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - top)
	}
	lse := top + math.Log(s)
	for k, v := range x {
		dst[k] += w * (v - lse)
	}
}
