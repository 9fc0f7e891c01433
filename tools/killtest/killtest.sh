#!/usr/bin/env bash
# Kills a training run with SIGKILL at random moments (KILLS times, default
# 20), resumes it after each kill, and checks that its final weights are
# bitwise identical to those of an uninterrupted run of the same config.
# A checkpoint is saved after every step, so many kills land while one is
# being written; the script counts those (a leftover temporary directory).
#
#   bash tools/killtest/killtest.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
KILLS=${KILLS:-20}
work=$(mktemp -d)
bin=$work/transformer
go build -o "$bin" ./cmd/transformer
go build -o "$work/compare" ./tools/killtest
cfg=$work/kill.yaml
cat > "$cfg" <<YAML
data:
  generate: {task: reverse, train_size: 2000, valid_size: 50, test_size: 0, min_len: 2, max_len: 8, alphabet: 8, seed: 5}
  src_tokenizer: {merges: 0}
  tgt_tokenizer: {merges: 0}
model: {d_model: 32, heads: 4, ff_dim: 64, encoder_layers: 1, decoder_layers: 1, dropout: 0.1, norm_first: true}
training:
  steps: ${STEPS:-1500}
  batch_tokens: 256
  schedule: noam
  warmup: 100
  valid_every: 500
  valid_sentences: 50
  save_every: 1
  keep_checkpoints: 2
  log_every: 500
YAML

echo "reference run (uninterrupted)..."
start=$(date +%s)
"$bin" train -c "$cfg" --out "$work/ref" > "$work/ref.log"
echo "  $(( $(date +%s) - start ))s"

kills=0 during_write=0 fresh=0
"$bin" train -c "$cfg" --out "$work/run" >> "$work/run.log" 2>&1 &
pid=$!
while [ "$kills" -lt "$KILLS" ]; do
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + 1.8 * r / 32767 }')"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the run finished after $kills kills; raise STEPS for more" >&2
    break
  fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  kills=$((kills + 1))
  if compgen -G "$work/run/checkpoints/.tmp-*" > /dev/null; then during_write=$((during_write + 1)); fi
  step=$(sed -n 's#checkpoints/step-0*##p' "$work/run/latest" 2>/dev/null || echo none)
  echo "kill $kills: latest checkpoint at step ${step:-0}"
  if [ -f "$work/run/latest" ]; then
    "$bin" train --resume "$work/run" >> "$work/run.log" 2>&1 &
  else
    fresh=$((fresh + 1))
    # Killed before the first checkpoint: start again over what it left.
    "$bin" train -c "$cfg" --out "$work/run" --overwrite >> "$work/run.log" 2>&1 &
  fi
  pid=$!
done
wait "$pid"
echo "$kills kills ($during_write while a checkpoint was being written, $fresh before the first checkpoint)"
"$work/compare" "$work/ref" "$work/run"
rm -rf "$work"
