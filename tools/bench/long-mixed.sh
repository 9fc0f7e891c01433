#!/usr/bin/env bash
# Mixed precision on long sequences: a training step of the 6-layer d_model
# 256 encoder of docs/long-sequences.md at n = 1,024 and 4,096, full
# attention whole and in 256×256 chunks, with and without gradient
# checkpointing, in float32 and bfloat16, one process per configuration so
# that each peak RSS is its own. Writes the JSON lines to OUT (default
# docs/long-sequences-mixed.jsonl) and prints the table.
#
#   tools/bench/long-mixed.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/long-sequences-mixed.jsonl}
bin=$(mktemp -d)/transformer
go build -o "$bin" ./cmd/transformer
: > "$out"
for n in 1024 4096; do
  for chunk in 0 256; do
    for ckpt in false true; do
      for dtype in float32 bfloat16; do
        steps=3
        if [ "$n" -ge 4096 ]; then steps=1; fi
        "$bin" bench-long --attention full --chunk "$chunk" --seq "$n" --checkpoint-activations="$ckpt" \
          --dtype "$dtype" --steps "$steps" | tee -a "$out"
      done
    done
  done
done
"$bin" bench-long --report "$out"
