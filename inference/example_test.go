package inference_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/inference"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/train"
)

// Train a small model on the generated reverse task, then load the run and
// translate with it: the whole life of a model from Go.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	// Train: a config as in configs/reverse.yaml, smaller.
	c := rundir.DefaultConfig()
	c.Data.Generate = &data.Generated{Task: "reverse", TrainSize: 400, ValidSize: 20, TestSize: 0, MinLen: 2, MaxLen: 5, Alphabet: 5, Seed: 1}
	c.Data.SrcTokenizer.Merges, c.Data.TgtTokenizer.Merges = 0, 0
	c.Model.DModel, c.Model.Heads, c.Model.FFDim, c.Model.EncoderLayers, c.Model.DecoderLayers = 32, 4, 64, 1, 1
	c.Model.Dropout, c.Model.NormFirst = 0, true
	c.Training.Steps, c.Training.BatchTokens, c.Training.Schedule, c.Training.LearningRate = 600, 256, "constant", 0.003
	c.Training.LabelSmoothing, c.Training.ValidEvery, c.Training.BestMetric = 0, 300, "exact_match"
	c.Training.OutDir = filepath.Join(dir, "run")
	t, err := train.NewTrainer(context.Background(), &c, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := t.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	t.Close()

	// Load and translate, greedily and with a beam of 3.
	m, err := inference.Load(c.Training.OutDir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	out, err := m.Translate(context.Background(), []string{"a b c d", "e c"}, inference.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range out {
		fmt.Println(r.Text)
	}
	beam, _ := m.Translate(context.Background(), []string{"b a"}, inference.Options{Beam: 3, NBest: 2})
	fmt.Println(beam[0].NBest[0].Text, len(beam[0].NBest))
	// Output:
	// d c b a
	// c e
	// a b 2
}
