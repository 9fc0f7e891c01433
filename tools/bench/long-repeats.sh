#!/usr/bin/env bash
# Repeated, interleaved long-sequence measurements for the acceptance figures
# of docs/long-sequences.md: each configuration in REPS separate processes
# (default 3), 5 timed steps each. Pass a built binary to measure another
# build, for example the OpenBLAS one:
#
#   CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas -o /tmp/tf ./cmd/transformer
#   tools/bench/long-repeats.sh OUT.jsonl /tmp/tf
#   tools/bench/long_growth.py OUT.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/long-sequences-repeats.jsonl}
bin=${2:-}
if [ -z "$bin" ]; then
  bin=$(mktemp -d)/transformer
  go build -o "$bin" ./cmd/transformer
fi
: > "$out"
for rep in $(seq "${REPS:-3}"); do
  for kind in sliding_window linear; do for ckpt in false true; do for n in 1024 4096; do
    "$bin" bench-long --attention "$kind" --seq "$n" --steps 5 --checkpoint-activations="$ckpt" | tee -a "$out"
  done; done; done
  for ckpt in false true; do
    "$bin" bench-long --attention full --seq 1024 --steps 5 --checkpoint-activations="$ckpt" | tee -a "$out"
  done
done
/usr/bin/python3 tools/bench/long_growth.py "$out"
