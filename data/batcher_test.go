package data

import (
	"reflect"
	"strings"
	"testing"
)

func TestMakeBatchesShapesAndContent(t *testing.T) {
	var ex []Example
	for i := 0; i < 50; i++ {
		n := 1 + i%9
		src := make([]int, n)
		tgt := make([]int, n+2)
		for j := range src {
			src[j] = 10 + j
		}
		for j := range tgt {
			tgt[j] = 20 + j
		}
		ex = append(ex, Example{Src: src, Tgt: tgt, Index: i})
	}
	batches, err := MakeBatches(ex, BatchOptions{MaxTokens: 64, BucketWidth: 4, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, b := range batches {
		if b.SrcLen%4 != 0 || b.TgtLen%4 != 0 {
			t.Fatalf("lengths %d/%d not bucketed", b.SrcLen, b.TgtLen)
		}
		if b.Size*max(b.SrcLen, b.TgtLen) > 64 {
			t.Fatalf("batch of %d×%d over the token budget", b.Size, max(b.SrcLen, b.TgtLen))
		}
		for r, idx := range b.Index {
			if idx < 0 {
				for _, id := range b.Src[r*b.SrcLen : (r+1)*b.SrcLen] {
					if id != PadID {
						t.Fatal("padding row holds tokens")
					}
				}
				continue
			}
			if seen[idx] {
				t.Fatalf("example %d twice", idx)
			}
			seen[idx] = true
			e := ex[idx]
			src := b.Src[r*b.SrcLen : (r+1)*b.SrcLen]
			if !reflect.DeepEqual(src[:len(e.Src)], e.Src) || src[len(e.Src)] != EosID {
				t.Fatalf("source row %v for %v", src, e.Src)
			}
			in := b.DecoderInput()[r*b.TgtLen : (r+1)*b.TgtLen]
			out := b.DecoderOutput()[r*b.TgtLen : (r+1)*b.TgtLen]
			if in[0] != BosID || !reflect.DeepEqual(in[1:1+len(e.Tgt)], e.Tgt) {
				t.Fatalf("decoder input %v for %v", in, e.Tgt)
			}
			if !reflect.DeepEqual(out[:len(e.Tgt)], e.Tgt) || out[len(e.Tgt)] != EosID {
				t.Fatalf("decoder output %v for %v", out, e.Tgt)
			}
		}
	}
	if len(seen) != len(ex) {
		t.Fatalf("%d of %d examples batched", len(seen), len(ex))
	}
	again, _ := MakeBatches(ex, BatchOptions{MaxTokens: 64, BucketWidth: 4, Shuffle: true, Seed: 3})
	if !reflect.DeepEqual(batches, again) {
		t.Error("same seed gave different batches")
	}
	other, _ := MakeBatches(ex, BatchOptions{MaxTokens: 64, BucketWidth: 4, Shuffle: true, Seed: 4})
	if reflect.DeepEqual(batches, other) {
		t.Error("different seeds gave the same batches")
	}
}

func TestNumberSplitIsDisjointAndStable(t *testing.T) {
	tr, va, te := NumberSplit(1000, 1000)
	if len(te) != 1000 || len(va) != 1000 || len(tr) != MaxNumber+1-2000 {
		t.Fatalf("sizes %d/%d/%d", len(tr), len(va), len(te))
	}
	seen := make([]bool, MaxNumber+1)
	for _, s := range [][]int{tr, va, te} {
		for _, n := range s {
			if seen[n] {
				t.Fatalf("%d in two splits", n)
			}
			seen[n] = true
		}
	}
	_, _, te2 := NumberSplit(1000, 1000)
	if !reflect.DeepEqual(te, te2) {
		t.Fatal("split not deterministic")
	}
}

func TestGenerateReverse(t *testing.T) {
	tr, _, _, err := Generate(Generated{Task: "reverse", TrainSize: 20, MinLen: 2, MaxLen: 5, Alphabet: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tr {
		s, r := []rune(p.Src), []rune(p.Tgt)
		for i := range s {
			if s[i] != r[len(r)-1-i] {
				t.Fatalf("%q is not the reverse of %q", p.Tgt, p.Src)
			}
		}
	}
	if _, _, _, err := Generate(Generated{Task: "nope"}); err == nil {
		t.Error("unknown task accepted")
	}
}

func TestNumberTrainingSampleCoversShortAndRoundNumbers(t *testing.T) {
	tr, va, te, err := Generate(Generated{Task: "numbers", TrainSize: 20000, ValidSize: 1000, TestSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 20000 {
		t.Fatalf("%d training pairs", len(tr))
	}
	held := map[string]bool{}
	for _, p := range append(va, te...) {
		held[p.Src] = true
	}
	small, round := 0, 0
	for _, p := range tr {
		if held[p.Src] {
			t.Fatalf("training pair %q is in valid or test", p.Src)
		}
		if !strings.Contains(p.Src, "thousand") {
			small++
		}
		if strings.HasSuffix(p.Src, "thousand") {
			round++
		}
	}
	if frac := float64(small) / 20000; frac < 0.12 || frac > 0.18 {
		t.Errorf("%.3f of the training numbers are below 1,000, want about 0.15", frac)
	}
	if frac := float64(round) / 20000; frac < 0.12 || frac > 0.18 {
		t.Errorf("%.3f of the training numbers are whole thousands, want about 0.15", frac)
	}
	again, _, _, _ := Generate(Generated{Task: "numbers", TrainSize: 20000, ValidSize: 1000, TestSize: 1000})
	if !reflect.DeepEqual(tr, again) {
		t.Error("sampling is not deterministic")
	}
}
