// Package rundir defines a training run as it lies on disk and as a user
// writes it: the YAML config (Config, ClassifyConfig) with its validation
// and memory estimate, the run directory (config.yaml, tokenizers,
// train.log, metrics.jsonl, checkpoints with latest and best pointers),
// checkpoints written atomically and verified on loading, the lock that
// keeps a run to one process, and the rules that keep a command from
// writing over a run. Training (package train) writes run directories;
// inference, serving and the CLI read them through this package alone.
package rundir
