package data

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// WordMark starts every word, as in SentencePiece, so that decoding can
// restore the spaces exactly: "four hundred" → "▁four", "▁hundred".
const WordMark = "▁"

// SpecialTokens are the first four entries of every vocabulary, at the ids
// PadID, UnkID, BosID and EosID.
var SpecialTokens = []string{"<pad>", "<unk>", "<s>", "</s>"}

// BPE is a byte-pair-encoding subword tokenizer (Sennrich, Haddow & Birch,
// 2016) over Unicode characters. Text is split at whitespace; each word,
// prefixed with WordMark, starts as a sequence of characters, and the learned
// merges are applied in the order they were learned. With no merges it is a
// character tokenizer. Decoding joins the tokens and turns WordMark back into
// spaces, so Decode(Encode(s)) == s for text with single spaces between
// words and none at the ends.
type BPE struct {
	Merges [][2]string `json:"merges"`
	Vocab  []string    `json:"vocab"` // id → token; SpecialTokens first
	// Clean is applied to every text before it is encoded (see Clean): the
	// tokenizer carries its normalization, so translating a sentence
	// cleans it as the training corpus was.
	Clean CleanOptions `json:"clean"`

	ids   map[string]int
	ranks map[[2]string]int
	cache map[string][]int
}

func pairText(names []string, p uint64) string {
	return names[p>>32] + " " + names[p&0xffffffff]
}

func (t *BPE) index() {
	t.ids = make(map[string]int, len(t.Vocab))
	for i, v := range t.Vocab {
		t.ids[v] = i
	}
	t.ranks = make(map[[2]string]int, len(t.Merges))
	for i, m := range t.Merges {
		t.ranks[m] = i
	}
	t.cache = map[string][]int{}
}

// Size is the vocabulary size.
func (t *BPE) Size() int { return len(t.Vocab) }

// maxChunk bounds the characters merged together: longer words are
// encoded in chunks of this many characters, which keeps encoding linear in
// the length of pathological input (merging is quadratic in a chunk's
// length) and decoding exact.
const maxChunk = 64

// Encode splits text into token ids (without BosID or EosID). Characters
// never seen in training become UnkID.
func (t *BPE) Encode(text string) []int {
	var out []int
	for _, w := range strings.Fields(Clean(text, t.Clean)) {
		r := []rune(WordMark + w)
		for len(r) > maxChunk {
			out = append(out, t.encodeWord(string(r[:maxChunk]))...)
			r = r[maxChunk:]
		}
		out = append(out, t.encodeWord(string(r))...)
	}
	return out
}

func (t *BPE) encodeWord(w string) []int {
	if ids, ok := t.cache[w]; ok {
		return ids
	}
	parts := make([]string, 0, len(w))
	for _, r := range w {
		parts = append(parts, string(r))
	}
	for len(parts) > 1 {
		best, at := -1, -1
		for j := 0; j+1 < len(parts); j++ {
			if r, ok := t.ranks[[2]string{parts[j], parts[j+1]}]; ok && (best < 0 || r < best) {
				best, at = r, j
			}
		}
		if at < 0 {
			break
		}
		m := t.Merges[best]
		out := parts[:0]
		for j := 0; j < len(parts); j++ {
			if j+1 < len(parts) && parts[j] == m[0] && parts[j+1] == m[1] {
				out = append(out, m[0]+m[1])
				j++
			} else {
				out = append(out, parts[j])
			}
		}
		parts = out
	}
	ids := make([]int, len(parts))
	for i, p := range parts {
		id, ok := t.ids[p]
		if !ok {
			id = UnkID
		}
		ids[i] = id
	}
	if len(t.cache) < 1<<20 {
		t.cache[w] = ids
	}
	return ids
}

// Tokens returns the token strings of ids.
func (t *BPE) Tokens(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if id >= 0 && id < len(t.Vocab) {
			out[i] = t.Vocab[id]
		} else {
			out[i] = SpecialTokens[UnkID]
		}
	}
	return out
}

// Decode turns ids back into text, dropping special tokens other than
// UnkID.
func (t *BPE) Decode(ids []int) string {
	var b strings.Builder
	for i, tok := range t.Tokens(ids) {
		if ids[i] < len(SpecialTokens) && ids[i] != UnkID {
			continue
		}
		b.WriteString(tok)
	}
	return strings.TrimPrefix(strings.ReplaceAll(b.String(), WordMark, " "), " ")
}

// Save writes the tokenizer as JSON.
func (t *BPE) Save(path string) error {
	b, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// LoadBPE reads a tokenizer written by Save.
func LoadBPE(path string) (*BPE, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &BPE{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("%s: not a tokenizer file: %w", path, err)
	}
	if len(t.Vocab) < len(SpecialTokens) {
		return nil, fmt.Errorf("%s: vocabulary has %d tokens, fewer than the %d special tokens", path, len(t.Vocab), len(SpecialTokens))
	}
	for i, s := range SpecialTokens {
		if t.Vocab[i] != s {
			return nil, fmt.Errorf("%s: token %d is %q, want special token %q", path, i, t.Vocab[i], s)
		}
	}
	t.index()
	for _, m := range t.Merges {
		if _, ok := t.ids[m[0]+m[1]]; !ok {
			return nil, fmt.Errorf("%s: merge %q+%q has no vocabulary entry", path, m[0], m[1])
		}
	}
	return t, nil
}
