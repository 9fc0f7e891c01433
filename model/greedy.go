package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
)

// DecodeOptions bound and batch decoding.
type DecodeOptions struct {
	// BatchSize is the number of sentences decoded together (default 64).
	BatchSize int
	// The output has at most MaxLenA·(source length) + MaxLenB tokens,
	// and never more than MaxLen (defaults 2, 10 and 128).
	MaxLenA float64
	MaxLenB int
	MaxLen  int
	// LenStep rounds decoder and source lengths up to a multiple of it, so
	// that few graph shapes are compiled (default 8).
	LenStep int
	// NoCache recomputes every earlier position at each step instead of
	// keeping their keys and values (slower; the outputs are the same).
	NoCache bool
}

func (o DecodeOptions) withDefaults() DecodeOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.MaxLenA == 0 && o.MaxLenB == 0 {
		o.MaxLenA, o.MaxLenB = 2, 10
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 128
	}
	if o.LenStep <= 0 {
		o.LenStep = 8
	}
	return o
}

func roundUp(n, step int) int { return (n + step - 1) / step * step }

// Greedy translates token-id sentences (without special tokens) by picking
// the most probable token at every step until EosID, returning the output
// ids without BosID and EosID, in input order. Sentences are sorted by
// length and decoded in batches; the encoder runs once per batch.
func (t *Translator) Greedy(srcs [][]int, opt DecodeOptions) ([][]int, error) {
	opt = opt.withDefaults()
	order := make([]int, len(srcs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(srcs[order[a]]) < len(srcs[order[b]]) })
	out := make([][]int, len(srcs))
	for start := 0; start < len(order); start += opt.BatchSize {
		idx := order[start:min(start+opt.BatchSize, len(order))]
		batch := make([][]int, len(idx))
		for i, j := range idx {
			batch[i] = srcs[j]
		}
		res, err := t.greedyBatch(batch, opt)
		if err != nil {
			return nil, err
		}
		for i, j := range idx {
			out[j] = res[i]
		}
	}
	return out, nil
}

// batchSources lays out a batch of sources as rows of srcLen ids (each
// ending with EosID, then padding) and gives each row's output limit.
func (t *Translator) batchSources(srcs [][]int, opt DecodeOptions) (src []int, srcLen int, limit []int, maxOut int, err error) {
	longest := 0
	for _, s := range srcs {
		longest = max(longest, len(s)+1) // + EosID
	}
	srcLen = roundUp(longest, opt.LenStep)
	if pm := t.Model.SrcPos.MaxLen(); pm > 0 && srcLen > pm {
		if longest > pm {
			return nil, 0, nil, 0, fmt.Errorf("source of %d tokens exceeds the model's %d positions", longest, pm)
		}
		srcLen = pm
	}
	src = make([]int, len(srcs)*srcLen)
	limit = make([]int, len(srcs))
	for i, s := range srcs {
		copy(src[i*srcLen:], s)
		src[i*srcLen+len(s)] = data.EosID
		limit[i] = min(opt.MaxLen, int(math.Ceil(opt.MaxLenA*float64(len(s)+1)))+opt.MaxLenB)
		if pm := t.Model.TgtPos.MaxLen(); pm > 0 {
			limit[i] = min(limit[i], pm-1)
		}
		maxOut = max(maxOut, limit[i])
	}
	return src, srcLen, limit, maxOut, nil
}

// greedyCached decodes a batch incrementally, with the key/value cache.
func (t *Translator) greedyCached(srcs [][]int, opt DecodeOptions) ([][]int, error) {
	n := len(srcs)
	src, srcLen, limit, maxOut, err := t.batchSources(srcs, opt)
	if err != nil {
		return nil, err
	}
	out := make([][]int, n)
	done := make([]bool, n)
	left := n
	vocab := t.Model.Config.TgtVocab
	tokens := make([]int, n)
	err = t.incremental(src, n, srcLen, maxOut, func(step int, scores []float64) ([]int, bool) {
		for i := 0; i < n; i++ {
			if done[i] {
				tokens[i] = data.PadID
				continue
			}
			best := argmax(scores[i*vocab : (i+1)*vocab])
			tokens[i] = best
			if best == data.EosID || step+1 >= limit[i] {
				if best != data.EosID {
					out[i] = append(out[i], best)
				}
				done[i] = true
				left--
				continue
			}
			out[i] = append(out[i], best)
		}
		return tokens, left > 0
	})
	return out, err
}

func (t *Translator) greedyBatch(srcs [][]int, opt DecodeOptions) ([][]int, error) {
	if !opt.NoCache {
		return t.greedyCached(srcs, opt)
	}
	n := len(srcs)
	src, srcLen, limit, maxOut, err := t.batchSources(srcs, opt)
	if err != nil {
		return nil, err
	}
	memory, err := t.EncodeBatch(src, n, srcLen)
	if err != nil {
		return nil, err
	}
	// ys holds BosID followed by the tokens chosen so far, padded.
	full := maxOut + 1
	ys := make([]int, n*full)
	for i := 0; i < n; i++ {
		ys[i*full] = data.BosID
	}
	out := make([][]int, n)
	done := make([]bool, n)
	left := n
	vocab := t.Model.Config.TgtVocab
	for step := 0; step < maxOut && left > 0; step++ {
		tgtLen := min(roundUp(step+1, opt.LenStep), full)
		if pm := t.Model.TgtPos.MaxLen(); pm > 0 {
			tgtLen = min(tgtLen, pm)
		}
		tgt := make([]int, n*tgtLen)
		for i := 0; i < n; i++ {
			copy(tgt[i*tgtLen:(i+1)*tgtLen], ys[i*full:i*full+tgtLen])
		}
		logits, err := t.DecodeBatch(memory, src, tgt, n, srcLen, tgtLen)
		if err != nil {
			return nil, err
		}
		scores := graph.Float64s(logits)
		for i := 0; i < n; i++ {
			if done[i] {
				continue
			}
			row := scores[(i*tgtLen+step)*vocab : (i*tgtLen+step+1)*vocab]
			best := argmax(row)
			if best == data.EosID || step+1 >= limit[i] {
				if best != data.EosID {
					out[i] = append(out[i], best)
				}
				done[i] = true
				left--
				continue
			}
			out[i] = append(out[i], best)
			ys[i*full+step+1] = best
		}
	}
	return out, nil
}

// argmax returns the most probable token, never PadID or BosID, which a
// decoder must not produce.
func argmax(v []float64) int {
	best := -1
	for i, x := range v {
		if i != data.PadID && i != data.BosID && (best < 0 || x > v[best]) {
			best = i
		}
	}
	return best
}
