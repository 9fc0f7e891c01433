package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
)

// BeamOptions configure beam search.
type BeamOptions struct {
	DecodeOptions
	// Beam is the number of hypotheses kept per sentence (default 5).
	Beam int
	// Alpha is the GNMT length penalty: scores are log P(y|x) / lp(y) with
	// lp(y) = ((5 + |y|) / 6)^Alpha, where |y| counts </s>. 0 ranks by
	// log-probability alone; about 0.6 favours longer outputs.
	Alpha float64
	// NBest is how many hypotheses to return per sentence (default 1,
	// at most Beam).
	NBest int
}

// Hypothesis is one beam-search output: token ids without BosID and
// EosID, with its length-penalised score and its log-probability.
type Hypothesis struct {
	Tokens  []int
	Score   float64
	LogProb float64
}

// lengthPenalty is GNMT's lp(y).
func lengthPenalty(n int, alpha float64) float64 {
	if alpha == 0 {
		return 1
	}
	return math.Pow((5+float64(n))/6, alpha)
}

// Beam translates token-id sentences by beam search and returns, for each
// sentence in input order, its NBest hypotheses, best first. A sentence
// ends when Beam hypotheses have produced EosID or its length limit is
// reached (then the live hypotheses are finished as they are). Sentences
// are decoded in length-sorted batches; the encoder runs once per batch.
func (t *Translator) Beam(srcs [][]int, opt BeamOptions) ([][]Hypothesis, error) {
	opt.DecodeOptions = opt.DecodeOptions.withDefaults()
	if opt.Beam <= 0 {
		opt.Beam = 5
	}
	if opt.NBest <= 0 {
		opt.NBest = 1
	}
	if opt.NBest > opt.Beam {
		return nil, fmt.Errorf("n-best %d exceeds the beam size %d", opt.NBest, opt.Beam)
	}
	// Each sentence takes Beam rows of a decoder batch.
	per := max(1, opt.BatchSize/opt.Beam)
	order := make([]int, len(srcs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(srcs[order[a]]) < len(srcs[order[b]]) })
	out := make([][]Hypothesis, len(srcs))
	for start := 0; start < len(order); start += per {
		idx := order[start:min(start+per, len(order))]
		batch := make([][]int, len(idx))
		for i, j := range idx {
			batch[i] = srcs[j]
		}
		res, err := t.beamBatch(batch, opt)
		if err != nil {
			return nil, err
		}
		for i, j := range idx {
			out[j] = res[i]
		}
	}
	return out, nil
}

// beam is the search state of one sentence.
type beam struct {
	live     []Hypothesis // at most Beam, best first
	finished []Hypothesis
	limit    int
	done     bool
}

func (t *Translator) beamBatch(srcs [][]int, opt BeamOptions) ([][]Hypothesis, error) {
	n, k := len(srcs), opt.Beam
	longest := 0
	for _, s := range srcs {
		longest = max(longest, len(s)+1)
	}
	srcLen := roundUp(longest, opt.LenStep)
	if pm := t.Model.SrcPos.MaxLen(); pm > 0 && srcLen > pm {
		if longest > pm {
			return nil, fmt.Errorf("source of %d tokens exceeds the model's %d positions", longest, pm)
		}
		srcLen = pm
	}
	// Sources are repeated for each of a sentence's k rows, so that the
	// encoder output lines up with the decoder rows.
	src := make([]int, n*k*srcLen)
	beams := make([]*beam, n)
	maxOut := 0
	for i, s := range srcs {
		for r := 0; r < k; r++ {
			row := src[(i*k+r)*srcLen:]
			copy(row, s)
			row[len(s)] = data.EosID
		}
		limit := min(opt.MaxLen, int(math.Ceil(opt.MaxLenA*float64(len(s)+1)))+opt.MaxLenB)
		if pm := t.Model.TgtPos.MaxLen(); pm > 0 {
			limit = min(limit, pm-1)
		}
		beams[i] = &beam{live: []Hypothesis{{}}, limit: limit}
		maxOut = max(maxOut, limit)
	}
	memory, err := t.EncodeBatch(src, n*k, srcLen)
	if err != nil {
		return nil, err
	}
	vocab := t.Model.Config.TgtVocab
	logp := make([]float64, vocab)
	for step := 0; step < maxOut; step++ {
		left := false
		for _, b := range beams {
			left = left || !b.done
		}
		if !left {
			break
		}
		tgtLen := roundUp(step+1, opt.LenStep)
		if pm := t.Model.TgtPos.MaxLen(); pm > 0 {
			tgtLen = min(tgtLen, pm)
		}
		tgt := make([]int, n*k*tgtLen)
		for i, b := range beams {
			for r, h := range b.live {
				row := tgt[(i*k+r)*tgtLen:]
				row[0] = data.BosID
				copy(row[1:], h.Tokens)
			}
		}
		logits, err := t.DecodeBatch(memory, src, tgt, n*k, srcLen, tgtLen)
		if err != nil {
			return nil, err
		}
		scores := graph.Float64s(logits)
		for i, b := range beams {
			if b.done {
				continue
			}
			// Each live hypothesis offers its 2k best continuations; the
			// best of those are kept, ties going to the earlier row and token
			// so that search is deterministic.
			var cands []candidate
			for r, h := range b.live {
				off := ((i*k+r)*tgtLen + step) * vocab
				logSoftmax(scores[off:off+vocab], logp)
				cands = appendTop(cands, logp, r, h.LogProb, 2*k)
			}
			sort.SliceStable(cands, func(a, c int) bool { return cands[a].logp > cands[c].logp })
			var live []Hypothesis
			for _, c := range cands {
				prev := b.live[c.row].Tokens
				toks := append(append(make([]int, 0, len(prev)+1), prev...), c.tok)
				switch {
				case c.tok == data.EosID:
					b.finished = append(b.finished, Hypothesis{Tokens: prev, LogProb: c.logp,
						Score: c.logp / lengthPenalty(len(prev)+1, opt.Alpha)})
				case step+1 >= b.limit: // out of room: finish without </s>
					b.finished = append(b.finished, Hypothesis{Tokens: toks, LogProb: c.logp,
						Score: c.logp / lengthPenalty(len(toks), opt.Alpha)})
				default:
					live = append(live, Hypothesis{Tokens: toks, LogProb: c.logp})
				}
				if len(live) == k || len(b.finished) >= k {
					break
				}
			}
			b.live = live
			if len(b.finished) >= k || len(live) == 0 {
				b.done = true
			}
		}
	}
	res := make([][]Hypothesis, n)
	for i, b := range beams {
		all := b.finished
		if len(all) == 0 { // maxOut reached with live hypotheses only
			for _, h := range b.live {
				all = append(all, Hypothesis{Tokens: h.Tokens, LogProb: h.LogProb, Score: h.LogProb / lengthPenalty(len(h.Tokens), opt.Alpha)})
			}
		}
		sort.SliceStable(all, func(a, c int) bool { return all[a].Score > all[c].Score })
		res[i] = all[:min(opt.NBest, len(all))]
	}
	return res, nil
}

// candidate is one continuation: token tok after live hypothesis row.
type candidate struct {
	row, tok int
	logp     float64
}

// appendTop appends the n most probable tokens of logp (never PadID or
// BosID) as continuations of row, whose log-probability is base.
func appendTop(cands []candidate, logp []float64, row int, base float64, n int) []candidate {
	top := make([]candidate, 0, n+1)
	for tok, lp := range logp {
		if tok == data.PadID || tok == data.BosID {
			continue
		}
		c := candidate{row, tok, base + lp}
		if len(top) == n && c.logp <= top[n-1].logp {
			continue
		}
		i := len(top)
		top = append(top, c)
		for i > 0 && top[i-1].logp < c.logp { // stable: equal scores keep token order
			top[i] = top[i-1]
			i--
		}
		top[i] = c
		if len(top) > n {
			top = top[:n]
		}
	}
	return append(cands, top...)
}

// logSoftmax writes the log-probabilities of the scores x into out.
func logSoftmax(x, out []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	sum := 0.0
	for _, v := range x {
		sum += math.Exp(v - m)
	}
	lse := m + math.Log(sum)
	for i, v := range x {
		out[i] = v - lse
	}
}
