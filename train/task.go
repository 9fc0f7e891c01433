package train

import (
	"context"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
)

// A Task is one kind of training problem: translation (Translation) or
// sequence classification (Classification). It supplies the model's
// parameters, the training batches, the loss of a batch as graph code and
// the evaluation; the Trainer does the rest for every task alike (the
// optimizer and its schedule, the loop, validation and the best
// checkpoint, checkpoints and exact resume, logs, metrics.jsonl and the
// learning curves).
type Task interface {
	// Store holds the trainable parameters.
	Store() *graph.Store
	// ModelConfig is the model section checkpoints are stamped with, and
	// Tokenizers the run directory's tokenizer files (none: nil).
	ModelConfig() model.Config
	Tokenizers() []string
	// Epoch returns the training batches of epoch e (1, 2, …) in their
	// seeded order.
	Epoch(e int) ([]Batch, error)
	// Objective builds in b the training loss of a batch shaped like
	// batch, and returns it with the function that binds any batch of
	// that shape to the graph's inputs. The loss is the sum over the
	// batch's targets divided by norm, the targets of every micro-batch of
	// the update (so that summed gradients are those of one batch).
	Objective(b *graph.Builder, batch Batch) (loss *G.Node, bind func(batch Batch, norm int) error)
	// Len is the number of items (pairs, sequences) of the split "valid"
	// or "test".
	Len(split string) int
	// Evaluate scores the current weights on the split "valid" or "test"
	// (decoding at most limit items where decoding is costly; 0: all),
	// stopping when ctx ends. The keys are metrics training.best_metric
	// may name, and counts.
	Evaluate(ctx context.Context, split string, limit int) (map[string]float64, error)
	// Describe formats Evaluate's figures as the text of a log line, and
	// Unit names what Batch.Targets counts ("tgt tok", "seq") in it.
	Describe(m map[string]float64) string
	Unit() string
	// Close releases what the task compiled.
	Close()
}

// A Batch is one training batch of a task.
type Batch interface {
	// Shape names the batch's graph: batches of one shape share one
	// compiled graph.
	Shape() string
	// Targets counts what the loss averages over: target tokens or
	// sequences.
	Targets() int
}
