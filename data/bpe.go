package data

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/gotransformer/transformer/safeio"
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

// Unknown returns the distinct characters of text (after cleaning) that
// the vocabulary lacks, in order of appearance: Encode makes each of them
// UnkID, so a model sees none of them.
func (t *BPE) Unknown(text string) []string {
	var out []string
	seen := map[rune]bool{}
	for _, r := range Clean(text, t.Clean) {
		if unicode.IsSpace(r) || seen[r] {
			continue
		}
		seen[r] = true
		if _, ok := t.ids[string(r)]; !ok {
			out = append(out, string(r))
		}
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

// MaxBPEVocab bounds the vocabulary of a tokenizer file, and MaxBPEMerges
// its merges: far above any tokenizer the project learns (tens of
// thousands), and low enough that the maps built to encode stay within a
// few hundred megabytes.
const (
	// MaxBPEVocab is the most tokens a tokenizer file may hold.
	MaxBPEVocab = 1 << 21
	// MaxBPEMerges is the most merges a tokenizer file may hold.
	MaxBPEMerges = 1 << 21
)

// LoadBPE reads a tokenizer written by Save: a regular file of at most
// safeio.TokenizerLimit bytes, checked by ParseBPE.
func LoadBPE(path string) (*BPE, error) {
	b, err := safeio.ReadFile(path, safeio.TokenizerLimit, "tokenizer")
	if err != nil {
		return nil, err
	}
	return ParseBPE(path, b)
}

// ParseBPE decodes the JSON of a tokenizer written by Save and checks that
// it can be used: the special tokens lead the vocabulary, every other token
// is non-empty and distinct (a special token may recur later, as LearnBPE
// makes it when the corpus holds its text; text then encodes to the later
// id), every merge joins two vocabulary tokens into one, no merge is
// repeated, and the clean options are known. path only names the file in
// errors, which are one line.
func ParseBPE(path string, b []byte) (*BPE, error) {
	var raw struct {
		Merges [][]string   `json:"merges"`
		Vocab  []string     `json:"vocab"`
		Clean  CleanOptions `json:"clean"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a tokenizer file: %v", path, err)
	}
	if len(raw.Vocab) > MaxBPEVocab {
		return nil, fmt.Errorf("%s: vocabulary has %d tokens, more than the limit of %d", path, len(raw.Vocab), MaxBPEVocab)
	}
	if len(raw.Merges) > MaxBPEMerges {
		return nil, fmt.Errorf("%s: %d merges, more than the limit of %d", path, len(raw.Merges), MaxBPEMerges)
	}
	if len(raw.Vocab) < len(SpecialTokens) {
		return nil, fmt.Errorf("%s: vocabulary has %d tokens, fewer than the %d special tokens", path, len(raw.Vocab), len(SpecialTokens))
	}
	for i, s := range SpecialTokens {
		if raw.Vocab[i] != s {
			return nil, fmt.Errorf("%s: token %d is %q, want special token %q", path, i, raw.Vocab[i], s)
		}
	}
	if err := raw.Clean.Check(); err != nil {
		return nil, fmt.Errorf("%s: clean: %v", path, err)
	}
	seen := make(map[string]int, len(raw.Vocab))
	for i, v := range raw.Vocab {
		if v == "" {
			return nil, fmt.Errorf("%s: token %d is empty", path, i)
		}
		if j, dup := seen[v]; dup && j >= len(SpecialTokens) {
			return nil, fmt.Errorf("%s: token %d %q repeats token %d", path, i, v, j)
		}
		seen[v] = i
	}
	t := &BPE{Vocab: raw.Vocab, Clean: raw.Clean, Merges: make([][2]string, len(raw.Merges))}
	ranks := make(map[[2]string]int, len(raw.Merges))
	for i, m := range raw.Merges {
		if len(m) != 2 {
			return nil, fmt.Errorf("%s: merge %d has %d parts, want 2", path, i, len(m))
		}
		p := [2]string{m[0], m[1]}
		for _, part := range p {
			if _, ok := seen[part]; !ok {
				return nil, fmt.Errorf("%s: merge %d %q+%q: %q is not in the vocabulary", path, i, p[0], p[1], part)
			}
		}
		if _, ok := seen[p[0]+p[1]]; !ok {
			return nil, fmt.Errorf("%s: merge %d %q+%q has no vocabulary entry", path, i, p[0], p[1])
		}
		if j, dup := ranks[p]; dup {
			return nil, fmt.Errorf("%s: merge %d %q+%q repeats merge %d", path, i, p[0], p[1], j)
		}
		ranks[p] = i
		t.Merges[i] = p
	}
	t.ids, t.ranks, t.cache = seen, ranks, map[string][]int{}
	return t, nil
}
