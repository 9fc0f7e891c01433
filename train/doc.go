// Package train trains models. One Trainer runs every training task: Adam
// with the configured learning-rate schedule, global-norm gradient
// clipping, dropout masks, periodic validation that keeps the best
// checkpoint, checkpoints from which a run resumes bitwise exactly, and
// progress on the display, in train.log and in metrics.jsonl. A Task
// supplies what differs: the model's parameters, the batches, the loss as
// graph code built from the model's one definition (so gradient
// checkpointing and composed ops come from the Builder, not from the
// task) and the evaluation. Translation and Classification are the two
// tasks; the run directory and the configs are package rundir's.
package train
