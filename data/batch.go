package data

import "fmt"

// Reserved token ids, the same in every vocabulary.
const (
	PadID = 0 // padding
	UnkID = 1 // unknown token
	BosID = 2 // beginning of sentence
	EosID = 3 // end of sentence
)

// Batch is a padded batch of sentence pairs, row-major. Src holds the
// source ids [Size·SrcLen]; Tgt holds [Size·(TgtLen+1)] target ids starting
// with BosID and ending with EosID, so that the decoder input is
// Tgt[:, :TgtLen] and the expected output Tgt[:, 1:]. Rows beyond the real
// sentences are all padding and carry no loss.
type Batch struct {
	Size, SrcLen, TgtLen int
	Src, Tgt             []int
	// Index holds each row's position in the corpus (-1 for padding rows).
	Index []int
}

// Shape names the batch's dimensions ("b64/s24/t25"): batches of one
// shape share a compiled graph.
func (b *Batch) Shape() string { return fmt.Sprintf("b%d/s%d/t%d", b.Size, b.SrcLen, b.TgtLen) }

// DecoderInput returns the decoder's input ids Tgt[:, :TgtLen].
func (b *Batch) DecoderInput() []int { return b.tgtCols(0) }

// DecoderOutput returns the expected output ids Tgt[:, 1:].
func (b *Batch) DecoderOutput() []int { return b.tgtCols(1) }

func (b *Batch) tgtCols(off int) []int {
	out := make([]int, 0, b.Size*b.TgtLen)
	for r := 0; r < b.Size; r++ {
		row := b.Tgt[r*(b.TgtLen+1) : (r+1)*(b.TgtLen+1)]
		out = append(out, row[off:off+b.TgtLen]...)
	}
	return out
}

// Targets is Tokens: what the training loss averages over.
func (b *Batch) Targets() int { return b.Tokens() }

// Tokens counts the non-padding target tokens the loss sees (EosID included).
func (b *Batch) Tokens() int {
	n := 0
	for _, id := range b.DecoderOutput() {
		if id != PadID {
			n++
		}
	}
	return n
}
