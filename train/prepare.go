package train

import (
	"context"
	"fmt"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
)

// Corpus holds the sentence pairs of a run.
type Corpus struct {
	Train, Valid, Test []data.Pair
}

// LoadCorpus generates or reads the pairs a config names.
func LoadCorpus(c *rundir.Config) (*Corpus, error) {
	d := c.Data
	if d.Generate != nil {
		tr, va, te, err := data.Generate(*d.Generate)
		if err != nil {
			return nil, fmt.Errorf("%s: data.generate: %w", c.Path, err)
		}
		return &Corpus{tr, va, te}, nil
	}
	var out Corpus
	var err error
	if out.Train, err = d.Read(d.Train); err != nil {
		return nil, err
	}
	if out.Valid, err = d.Read(d.Valid); err != nil {
		return nil, err
	}
	if !d.Test.Empty() {
		if out.Test, err = d.Read(d.Test); err != nil {
			return nil, err
		}
	}
	if len(out.Train) == 0 {
		return nil, fmt.Errorf("%s: training corpus is empty", d.File(d.Train.Src+d.Train.TSV))
	}
	if len(out.Valid) == 0 {
		return nil, fmt.Errorf("%s: validation corpus is empty", d.File(d.Valid.Src+d.Valid.TSV))
	}
	return &out, nil
}

// sample picks up to n texts spread evenly over texts (n ≤ 0: all).
func sample(texts []string, n int) []string {
	if n <= 0 || n >= len(texts) {
		return texts
	}
	out := make([]string, n)
	for i := range out {
		out[i] = texts[i*len(texts)/n]
	}
	return out
}

// LearnTokenizers learns the source and target BPE tokenizers from the
// training pairs (one shared tokenizer with data.joint_tokenizer), showing
// progress on disp (nil: nowhere). It stops when ctx ends, returning
// ctx.Err().
func LearnTokenizers(ctx context.Context, c *rundir.Config, train []data.Pair, disp *progress.Display) (src, tgt *data.BPE, err error) {
	learn := func(name string, texts []string, merges int) (*data.BPE, error) {
		if disp == nil || merges == 0 {
			return data.LearnBPEContext(ctx, texts, merges, nil)
		}
		task := disp.Start(name+" tokenizer", merges, "merges")
		defer task.Finish()
		return data.LearnBPEContext(ctx, texts, merges, func(done int) { task.Update(done) })
	}
	clean := func(texts []string) []string {
		out := make([]string, len(texts))
		for i, t := range texts {
			out[i] = data.Clean(t, c.Data.Clean)
		}
		return out
	}
	if c.Data.JointTokenizer {
		both := append(sample(data.Sources(train), c.Data.SrcTokenizer.Sample), sample(data.Targets(train), c.Data.SrcTokenizer.Sample)...)
		if src, err = learn("joint", clean(both), c.Data.SrcTokenizer.Merges); err != nil {
			return nil, nil, err
		}
		src.Clean = c.Data.Clean
		return src, src, nil
	}
	if src, err = learn("source", clean(sample(data.Sources(train), c.Data.SrcTokenizer.Sample)), c.Data.SrcTokenizer.Merges); err != nil {
		return nil, nil, err
	}
	if tgt, err = learn("target", clean(sample(data.Targets(train), c.Data.TgtTokenizer.Sample)), c.Data.TgtTokenizer.Merges); err != nil {
		return nil, nil, err
	}
	src.Clean, tgt.Clean = c.Data.Clean, c.Data.Clean
	return src, tgt, nil
}
