// Command torchcheck writes a checkpoint's teacher-forced logits for some
// sentences to JSON, so that tools/torchcheck/check.py can compare them with
// PyTorch's on the same token ids. The decoder input is <s> followed by the
// model's own greedy translation.
//
//	go run ./tools/torchcheck --checkpoint DIR --out logits.json "sentence" ...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
)

func main() {
	ckpt := flag.String("checkpoint", "", "run directory")
	out := flag.String("out", "", "JSON file to write")
	flag.Parse()
	if err := run(*ckpt, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "torchcheck:", err)
		os.Exit(1)
	}
}

func run(dir, out string, sentences []string) error {
	if dir == "" || out == "" || len(sentences) == 0 {
		return fmt.Errorf("usage: torchcheck --checkpoint DIR --out FILE SENTENCE...")
	}
	ck, err := rundir.LoadCheckpoint(dir, "best")
	if err != nil {
		return err
	}
	tr := model.NewTranslator(ck.Model, 0)
	srcs := make([][]int, len(sentences))
	for i, s := range sentences {
		srcs[i] = ck.SrcTok.Encode(s)
	}
	hyps, err := tr.Greedy(srcs, ck.Config.Decoding.Options())
	if err != nil {
		return err
	}
	s, t := 0, 0
	for i := range srcs {
		s, t = max(s, len(srcs[i])+1), max(t, len(hyps[i])+1)
	}
	b := len(srcs)
	src, tgt := make([]int, b*s), make([]int, b*t)
	for i := range srcs {
		copy(src[i*s:], append(append([]int(nil), srcs[i]...), data.EosID))
		copy(tgt[i*t:], append([]int{data.BosID}, hyps[i]...))
	}
	logits, err := tr.Logits(src, tgt, b, s, t)
	if err != nil {
		return err
	}
	j, err := json.Marshal(map[string]any{"src": src, "tgt": tgt, "batch": b, "src_len": s, "tgt_len": t,
		"vocab": ck.Model.Config.TgtVocab, "logits": graph.Float64s(logits)})
	if err != nil {
		return err
	}
	return os.WriteFile(out, j, 0o644)
}
