// Package bench measures the project against the PyTorch reference: the
// speed and peak memory of a training step and of greedy decoding on random
// tokens with the reference's model and flags (Run, `transformer
// bench`), and the cost of one long-sequence training step per attention
// kind, with its report table and plot (Long, `transformer
// bench-long`). Every figure is one JSON line comparable with the
// reference's.
package bench
