#!/usr/bin/env bash
# Measures a training step of a 6-layer d_model 256 encoder (batch 1) for
# n = 256 … 4096 with full, sliding-window (w = 64, global first token) and
# linear attention, with and without gradient checkpointing, one process per
# configuration so that each peak RSS is its own. Writes the JSON lines to
# OUT (default docs/long-sequences.jsonl), then the table and the plot
# (docs/images/long-sequences.{png,svg}).
#
#   tools/bench/long.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/long-sequences.jsonl}
bin=$(mktemp -d)/transformer
go build -o "$bin" ./cmd/transformer
: > "$out"
for n in 256 512 1024 2048 4096; do
  for kind in full sliding_window linear; do
    for ckpt in false true; do
      steps=3
      if [ "$kind" = full ] && [ "$n" -ge 2048 ]; then steps=1; fi
      "$bin" bench-long --attention "$kind" --window 64 --seq "$n" --checkpoint-activations="$ckpt" --steps "$steps" | tee -a "$out"
    done
  done
done
mkdir -p docs/images
"$bin" bench-long --report "$out" --plot docs/images/long-sequences
