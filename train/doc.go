// Package train turns a YAML config into a trained model: it loads and
// validates the config, prepares data and tokenizers, runs the training loop
// (Adam with a learning-rate schedule, label-smoothed cross-entropy,
// global-norm gradient clipping, dropout masks), validates periodically,
// keeps the best checkpoint, and logs progress to stdout and to the run
// directory.
package train
