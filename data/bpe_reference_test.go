package data

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// learnBPEReference is the straightforward BPE learner (recount every pair
// after every merge) that LearnBPE must agree with exactly.
func learnBPEReference(texts []string, merges int, report func(done int)) *BPE {
	// Distinct words with their counts, as symbol-id sequences.
	sym := map[string]int{}
	var names []string
	intern := func(s string) int {
		if id, ok := sym[s]; ok {
			return id
		}
		sym[s] = len(names)
		names = append(names, s)
		return sym[s]
	}
	counts := map[string]int{}
	for _, t := range texts {
		for _, w := range strings.Fields(t) {
			counts[WordMark+w]++
		}
	}
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	chars := map[string]bool{}
	words := make([][]int, len(keys))
	freq := make([]int, len(keys))
	for _, w := range keys {
		for _, r := range w {
			chars[string(r)] = true
		}
	}
	charList := make([]string, 0, len(chars))
	for c := range chars {
		charList = append(charList, c)
	}
	sort.Strings(charList)
	for _, c := range charList {
		intern(c)
	}
	for i, w := range keys {
		for _, r := range w {
			words[i] = append(words[i], sym[string(r)])
		}
		freq[i] = counts[w]
	}
	t := &BPE{Vocab: append(append([]string(nil), SpecialTokens...), charList...)}
	for len(t.Merges) < merges {
		pairs := map[uint64]int{}
		for i, w := range words {
			for j := 0; j+1 < len(w); j++ {
				pairs[uint64(w[j])<<32|uint64(w[j+1])] += freq[i]
			}
		}
		var best uint64
		bestN := 0
		for p, n := range pairs {
			if n > bestN || (n == bestN && pairText(names, p) < pairText(names, best)) {
				best, bestN = p, n
			}
		}
		if bestN < 2 {
			break
		}
		a, b := int(best>>32), int(best&0xffffffff)
		joined := names[a] + names[b]
		if _, seen := sym[joined]; !seen {
			t.Vocab = append(t.Vocab, joined)
		}
		m := intern(joined)
		t.Merges = append(t.Merges, [2]string{names[a], names[b]})
		for i, w := range words {
			out := w[:0]
			for j := 0; j < len(w); j++ {
				if j+1 < len(w) && w[j] == a && w[j+1] == b {
					out = append(out, m)
					j++
				} else {
					out = append(out, w[j])
				}
			}
			words[i] = out
		}
		if report != nil {
			report(len(t.Merges))
		}
	}
	t.index()
	return t
}

// The fast learner must learn exactly the merges and vocabulary of the
// reference on varied text: numbers, repeated letters (overlapping pairs)
// and random words.
func TestLearnBPEMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]string, 400)
	for i := range random {
		var words []string
		for range 1 + rng.IntN(8) {
			n := 1 + rng.IntN(9)
			b := make([]rune, n)
			for k := range b {
				b[k] = []rune("aabbcdeéß")[rng.IntN(9)]
			}
			words = append(words, string(b))
		}
		random[i] = strings.Join(words, " ")
	}
	corpora := map[string][]string{
		"numbers": append(numberTexts(300, true), numberTexts(300, false)...),
		"repeats": {"aaaa aaa aa a", "aaaaaa bbbbbb abab", "ababab baba aaaa"},
		"random":  random,
		"empty":   {"", "  "},
	}
	for name, texts := range corpora {
		for _, merges := range []int{0, 5, 60, 400} {
			want := learnBPEReference(texts, merges, nil)
			got := LearnBPE(texts, merges)
			if !reflect.DeepEqual(got.Merges, want.Merges) || !reflect.DeepEqual(got.Vocab, want.Vocab) {
				t.Fatalf("%s, %d merges: fast learner differs:\n got %v\nwant %v", name, merges, got.Merges, want.Merges)
			}
		}
	}
}
