package train

import (
	"context"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
)

// Plan is what a run of a config would be, found without making it:
// `transformer train --dry-run`.
type Plan struct {
	// Config is the resolved config, as the run directory's config.yaml
	// would hold it.
	Config []byte
	// Parameters counts the model's parameters: total, encoder, decoder.
	Parameters         map[string]int
	SrcVocab, TgtVocab int
	Memory             rundir.MemoryEstimate
	TrainPairs         int
	// Batches is the number of batches of the first epoch, FirstBatch the
	// first one's shape ("b64/s24/t25") and FirstTokens its target tokens.
	Batches     int
	FirstBatch  string
	FirstTokens int
}

// PlanRun prepares c as NewTrainer would (data, tokenizers, model, the
// first epoch's batches), reporting progress on disp, but writes nothing.
func PlanRun(ctx context.Context, c *rundir.Config, disp *progress.Display) (*Plan, error) {
	t, err := newTranslation(ctx, c, NewLogger(disp, nil), "", false, false)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	batches, err := t.Epoch(1)
	if err != nil {
		return nil, err
	}
	resolved, err := c.Marshal()
	if err != nil {
		return nil, err
	}
	p := &Plan{Config: resolved, Parameters: t.Model.ParamCounts(), SrcVocab: t.SrcTok.Size(), TgtVocab: t.TgtTok.Size(),
		Memory: c.EstimateMemory(t.SrcTok.Size(), t.TgtTok.Size()), TrainPairs: len(t.trainEx), Batches: len(batches)}
	if len(batches) > 0 {
		b := batches[0].(*data.Batch)
		p.FirstBatch, p.FirstTokens = b.Shape(), b.Targets()
	}
	return p, nil
}
