package data

import (
	"fmt"
	"math/rand"
	"sort"
)

// Example is one encoded sentence pair (ids without special tokens).
type Example struct {
	Src, Tgt []int
	// Index is the pair's position in its corpus.
	Index int
}

// BatchOptions control MakeBatches.
type BatchOptions struct {
	// MaxTokens bounds Size·max(SrcLen, TgtLen) of every batch, padding
	// included.
	MaxTokens int
	// BucketWidth rounds sequence lengths up to a multiple of it (with EosID
	// and BosID counted); all batches of a bucket share one shape, so the
	// model compiles one graph per bucket.
	BucketWidth int
	// Shuffle orders examples within buckets, and batches, at random from
	// Seed; otherwise batches follow the corpus order within each bucket.
	Shuffle bool
	Seed    int64
}

// Encode tokenizes pairs; pairs whose source or target has more than
// maxLen tokens (0: no limit) or is empty are dropped and counted.
func Encode(pairs []Pair, src, tgt *BPE, maxLen int) (out []Example, dropped int) {
	for i, p := range pairs {
		s, t := src.Encode(p.Src), tgt.Encode(p.Tgt)
		if len(s) == 0 || len(t) == 0 || (maxLen > 0 && (len(s) > maxLen || len(t) > maxLen)) {
			dropped++
			continue
		}
		out = append(out, Example{Src: s, Tgt: t, Index: i})
	}
	return out, dropped
}

func roundUp(n, step int) int { return (n + step - 1) / step * step }

// MakeBatches groups examples into padded batches of fixed shape per
// length bucket. Source rows end with EosID; target rows are
// BosID … EosID. A bucket's last batch is filled with all-padding rows so
// that its shape matches the others.
func MakeBatches(ex []Example, opt BatchOptions) ([]*Batch, error) {
	if opt.MaxTokens <= 0 {
		return nil, fmt.Errorf("batch max tokens must be positive, got %d", opt.MaxTokens)
	}
	if opt.BucketWidth <= 0 {
		opt.BucketWidth = 1
	}
	type key struct{ s, t int }
	buckets := map[key][]Example{}
	var keys []key
	for _, e := range ex {
		k := key{roundUp(len(e.Src)+1, opt.BucketWidth), roundUp(len(e.Tgt)+1, opt.BucketWidth)}
		if _, ok := buckets[k]; !ok {
			keys = append(keys, k)
		}
		buckets[k] = append(buckets[k], e)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].s != keys[j].s {
			return keys[i].s < keys[j].s
		}
		return keys[i].t < keys[j].t
	})
	rng := rand.New(rand.NewSource(opt.Seed))
	var out []*Batch
	for _, k := range keys {
		b := buckets[k]
		if opt.Shuffle {
			b = append([]Example(nil), b...)
			rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		}
		size := max(1, opt.MaxTokens/max(k.s, k.t))
		for start := 0; start < len(b); start += size {
			out = append(out, pack(b[start:min(start+size, len(b))], size, k.s, k.t))
		}
	}
	if opt.Shuffle {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out, nil
}

// Pack lays out examples as one batch, padded to the longest source and
// target (EosID and BosID counted).
func Pack(ex []Example) *Batch {
	s, t := 0, 0
	for _, e := range ex {
		s, t = max(s, len(e.Src)+1), max(t, len(e.Tgt)+1)
	}
	return pack(ex, len(ex), s, t)
}

// pack lays out examples as a batch of size rows (padding rows after them).
func pack(ex []Example, size, srcLen, tgtLen int) *Batch {
	b := &Batch{Size: size, SrcLen: srcLen, TgtLen: tgtLen,
		Src: make([]int, size*srcLen), Tgt: make([]int, size*(tgtLen+1)), Index: make([]int, size)}
	for r := range b.Index {
		b.Index[r] = -1
	}
	for r, e := range ex {
		copy(b.Src[r*srcLen:], e.Src)
		b.Src[r*srcLen+len(e.Src)] = EosID
		row := b.Tgt[r*(tgtLen+1):]
		row[0] = BosID
		copy(row[1:], e.Tgt)
		row[1+len(e.Tgt)] = EosID
		b.Index[r] = e.Index
	}
	return b
}

// FilterRatio drops examples whose longer side has more than ratio times
// the tokens of the shorter side, a common sign of a misaligned pair.
func FilterRatio(ex []Example, ratio float64) (kept []Example, dropped int) {
	for _, e := range ex {
		a, b := float64(len(e.Src)), float64(len(e.Tgt))
		if max(a, b) > ratio*min(a, b) {
			dropped++
			continue
		}
		kept = append(kept, e)
	}
	return kept, dropped
}
