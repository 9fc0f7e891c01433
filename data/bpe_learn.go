package data

import (
	"container/heap"
	"context"
	"sort"
	"strings"
)

// LearnBPE learns up to merges merge rules from texts: it repeatedly joins
// the most frequent adjacent pair of symbols (ties broken by the pair's
// text, so learning is deterministic), until no pair occurs twice. The
// vocabulary holds the special tokens, every character seen, then one
// token per merge.
func LearnBPE(texts []string, merges int) *BPE { return LearnBPEReport(texts, merges, nil) }

// LearnBPEReport is LearnBPE that calls report, if not nil, with the number
// of merges learned so far after each one, for progress displays.
//
// Pair counts are kept up to date incrementally: a merge only revisits the
// words that contain the merged pair, and a heap with lazy deletion finds
// the next best pair, so learning takes seconds on corpora of tens of
// thousands of sentences.
func LearnBPEReport(texts []string, merges int, report func(done int)) *BPE {
	t, _ := LearnBPEContext(context.Background(), texts, merges, report)
	return t
}

// LearnBPEContext is LearnBPEReport that stops when ctx ends, returning
// ctx.Err().
func LearnBPEContext(ctx context.Context, texts []string, merges int, report func(done int)) (*BPE, error) {
	l := newLearner(texts)
	t := &BPE{Vocab: append(append([]string(nil), SpecialTokens...), l.names...)}
	for len(t.Merges) < merges {
		if len(t.Merges)%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		best, ok := l.best()
		if !ok {
			break
		}
		a, b := int(best>>32), int(best&0xffffffff)
		joined := l.names[a] + l.names[b]
		if _, seen := l.sym[joined]; !seen {
			t.Vocab = append(t.Vocab, joined)
		}
		t.Merges = append(t.Merges, [2]string{l.names[a], l.names[b]})
		l.merge(a, b, l.intern(joined))
		if report != nil {
			report(len(t.Merges))
		}
	}
	t.index()
	return t, nil
}

// learner holds the distinct words of a corpus as symbol sequences, with
// the count of every adjacent symbol pair and the words it occurs in.
type learner struct {
	sym   map[string]int
	names []string
	words [][]int
	freq  []int
	count map[uint64]int
	where map[uint64][]int // words that contain (or contained) the pair
	queue pairHeap
}

func pairOf(a, b int) uint64 { return uint64(a)<<32 | uint64(b) }

func newLearner(texts []string) *learner {
	l := &learner{sym: map[string]int{}, count: map[uint64]int{}, where: map[uint64][]int{}}
	counts := map[string]int{}
	for _, t := range texts {
		for _, w := range strings.Fields(t) {
			counts[WordMark+w]++
		}
	}
	keys := make([]string, 0, len(counts))
	chars := map[string]bool{}
	for w := range counts {
		keys = append(keys, w)
		for _, r := range w {
			chars[string(r)] = true
		}
	}
	sort.Strings(keys)
	charList := make([]string, 0, len(chars))
	for c := range chars {
		charList = append(charList, c)
	}
	sort.Strings(charList)
	for _, c := range charList {
		l.intern(c)
	}
	l.words = make([][]int, len(keys))
	l.freq = make([]int, len(keys))
	for i, w := range keys {
		for _, r := range w {
			l.words[i] = append(l.words[i], l.sym[string(r)])
		}
		l.freq[i] = counts[w]
		l.add(i, +1)
	}
	for p, n := range l.count {
		heap.Push(&l.queue, l.entry(p, n))
	}
	return l
}

func (l *learner) intern(s string) int {
	if id, ok := l.sym[s]; ok {
		return id
	}
	l.sym[s] = len(l.names)
	l.names = append(l.names, s)
	return l.sym[s]
}

// add adds (sign +1) or removes (−1) the pairs of word i to the counts,
// recording the words of new pairs; it returns nothing to the heap.
func (l *learner) add(i, sign int) {
	w := l.words[i]
	for j := 0; j+1 < len(w); j++ {
		p := pairOf(w[j], w[j+1])
		l.count[p] += sign * l.freq[i]
		if sign > 0 {
			if ws := l.where[p]; len(ws) == 0 || ws[len(ws)-1] != i {
				l.where[p] = append(ws, i)
			}
		}
	}
}

func (l *learner) entry(p uint64, n int) pairEntry {
	return pairEntry{pair: p, count: n, text: l.names[p>>32] + " " + l.names[p&0xffffffff]}
}

// best pops the most frequent pair (the smallest text on ties) whose count
// is current and at least 2.
func (l *learner) best() (uint64, bool) {
	for l.queue.Len() > 0 {
		e := heap.Pop(&l.queue).(pairEntry)
		if n := l.count[e.pair]; n != e.count {
			continue // stale: a fresher entry is in the heap
		}
		if e.count < 2 {
			return 0, false
		}
		return e.pair, true
	}
	return 0, false
}

// merge joins every occurrence of (a, b) into m, left to right, in the
// words that contain it, and updates the pair counts and the heap.
func (l *learner) merge(a, b, m int) {
	p := pairOf(a, b)
	touched := map[uint64]bool{}
	for _, i := range l.where[p] {
		w := l.words[i]
		has := false
		for j := 0; j+1 < len(w); j++ {
			if w[j] == a && w[j+1] == b {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		for j := 0; j+1 < len(w); j++ {
			touched[pairOf(w[j], w[j+1])] = true
		}
		l.add(i, -1)
		out := make([]int, 0, len(w))
		for j := 0; j < len(w); j++ {
			if j+1 < len(w) && w[j] == a && w[j+1] == b {
				out = append(out, m)
				j++
			} else {
				out = append(out, w[j])
			}
		}
		l.words[i] = out
		l.add(i, +1)
		for j := 0; j+1 < len(out); j++ {
			touched[pairOf(out[j], out[j+1])] = true
		}
	}
	delete(l.where, p)
	for q := range touched {
		if n := l.count[q]; n > 0 {
			heap.Push(&l.queue, l.entry(q, n))
		} else {
			delete(l.count, q)
		}
	}
}

// pairEntry is a heap entry: a pair with its count when pushed.
type pairEntry struct {
	pair  uint64
	count int
	text  string
}

// pairHeap orders entries by count, highest first, then by text.
type pairHeap []pairEntry

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	return h[i].text < h[j].text
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairEntry)) }
func (h *pairHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
