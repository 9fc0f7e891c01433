package train

import (
	"context"
	"testing"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/rundir"
)

// BenchmarkTrainStepNumbers measures one optimizer step of the default
// config's model on a batch of number pairs. Run with
//
//	go test ./train -run '^$' -bench TrainStep -benchtime 20x
func BenchmarkTrainStepNumbers(b *testing.B) {
	c, err := rundir.LoadConfig("../configs/numbers-en-de.yaml")
	if err != nil {
		b.Fatal(err)
	}
	c.Data.Generate.TrainSize = 5000
	c.Training.OutDir = b.TempDir()
	t, err := NewTrainer(context.Background(), c, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	batches, err := data.MakeBatches(t.Translation().trainEx, data.BatchOptions{MaxTokens: c.Training.BatchTokens, BucketWidth: c.Training.BucketWidth})
	if err != nil {
		b.Fatal(err)
	}
	// The fullest bucket.
	batch := batches[0]
	for _, x := range batches {
		if x.Size*max(x.SrcLen, x.TgtLen) > batch.Size*max(batch.SrcLen, batch.TgtLen) || x.Tokens() > batch.Tokens() {
			batch = x
		}
	}
	if _, err := t.TrainStep(batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	tokens := 0
	for i := 0; i < b.N; i++ {
		r, err := t.TrainStep(batch)
		if err != nil {
			b.Fatal(err)
		}
		tokens += r.Tokens
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tgt_tok/s")
	b.ReportMetric(float64(batch.Size), "sentences/batch")
}
