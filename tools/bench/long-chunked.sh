#!/usr/bin/env bash
# Chunked full attention against full attention in docs/long-sequences.md:
# a training step of the 6-layer d_model 256 encoder (batch 1) at n = 1,024
# and 4,096, with and without gradient checkpointing, each configuration in
# REPS separate interleaved processes (default 3; 3 timed steps at 1,024,
# 1 at 4,096); then one 16,384-token step with chunks and checkpointing.
# Writes JSON lines to OUT (default docs/long-sequences-chunked.jsonl) and
# prints the table (tools/bench/long_chunked.py).
#
#   tools/bench/long-chunked.sh [OUT] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/long-sequences-chunked.jsonl}
bin=${2:-}
if [ -z "$bin" ]; then
  bin=$(mktemp -d)/transformer
  go build -o "$bin" ./cmd/transformer
fi
chunk=${CHUNK:-256}
: > "$out"
for rep in $(seq "${REPS:-3}"); do
  for n in 1024 4096; do
    steps=3
    if [ "$n" -ge 4096 ]; then steps=1; fi
    for ckpt in false true; do
      for c in 0 "$chunk"; do
        "$bin" bench-long --attention full --chunk "$c" --seq "$n" --steps "$steps" --checkpoint-activations="$ckpt" | tee -a "$out"
      done
    done
  done
done
"$bin" bench-long --attention full --chunk "$chunk" --seq 16384 --steps 1 --checkpoint-activations | tee -a "$out"
/usr/bin/python3 tools/bench/long_chunked.py "$out"
