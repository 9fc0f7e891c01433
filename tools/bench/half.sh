#!/usr/bin/env bash
# 16-bit and int8 weights against float32 on a trained run
# (docs/performance.md): converts RUN to f16 and bf16 (transformer
# convert), then for each of f32, f16, bf16 and int8 (quantised on loading,
# eval --dtype int8) evaluates SRC against REF with beam 5 and greedily,
# and prints BLEU, chrF, wall time, the weights' memory and the peak RSS of
# the evaluation and of loading alone (transformer info). The translations
# are compared line by line with float32's.
#
#   tools/bench/half.sh RUN SRC REF [OUTDIR] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
run=$1 src=$2 ref=$3
out=${4:-$(mktemp -d)}
bin=${5:-}
if [ -z "$bin" ]; then
  bin=$(mktemp -d)/transformer
  go build -o "$bin" ./cmd/transformer
fi
mkdir -p "$out"
for f in f16 bf16; do
  [ -d "$out/$f" ] || "$bin" convert -k "$run" --dtype "$f" --out "$out/$f"
done
lscpu | grep -i 'model name'
grep -o -w 'avx512[a-z_0-9]*\|avx2\|fma\|f16c' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
for beam in 5 1; do
  for f in f32 f16 bf16 int8; do
    dir=$run flags=()
    case $f in
    f16 | bf16) dir=$out/$f ;;
    int8) flags=(--dtype int8) ;;
    esac
    /usr/bin/time -f "%e s %M KB" -o "$out/time-$f-$beam" \
      "$bin" eval -k "$dir" "${flags[@]}" --src "$src" --ref "$ref" --beam "$beam" --out "$out/hyp-$f-$beam" --quiet > "$out/score-$f-$beam"
    /usr/bin/time -f "%M" -o "$out/load-$f" "$bin" info -k "$dir" "${flags[@]}" > "$out/info-$f"
    same=$(paste -d '\t' "$out/hyp-f32-$beam" "$out/hyp-$f-$beam" | awk -F '\t' '$1 == $2' | wc -l)
    echo "beam $beam | $f | $(grep -m1 '^BLEU' "$out/score-$f-$beam" | cut -c1-40) | $(grep -m1 '^chrF2' "$out/score-$f-$beam") | $(cat "$out/time-$f-$beam") | $(grep -o 'weights take [0-9.]* MB' "$out/info-$f") | load peak $(cat "$out/load-$f") KB | same as f32: $same/$(wc -l < "$src")"
  done
done
