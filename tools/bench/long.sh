#!/usr/bin/env bash
# Measures a training step of a 6-layer d_model 256 encoder (batch 1) for
# n = 256 … 4096 with full, chunked full (256×256 blocks), sliding-window
# (w = 64, global first token) and linear attention, with and without
# gradient checkpointing, one process per configuration so that each peak
# RSS is its own. Writes the JSON lines to
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
  # full:256 is full attention in 256×256 chunks.
  for conf in full full:256 sliding_window linear; do
    kind=${conf%%:*} chunk=0
    if [ "$conf" != "$kind" ]; then chunk=${conf#*:}; fi
    for ckpt in false true; do
      steps=3
      if [ "$kind" = full ] && [ "$n" -ge 2048 ]; then steps=1; fi
      "$bin" bench-long --attention "$kind" --chunk "$chunk" --window 64 --seq "$n" --checkpoint-activations="$ckpt" --steps "$steps" | tee -a "$out"
    done
  done
done
mkdir -p docs/images
"$bin" bench-long --report "$out" --plot docs/images/long-sequences
