#!/usr/bin/env bash
# Mixed-precision training measured against PyTorch in one run, on the
# reference's tiny and small shapes: ours in float32, bfloat16 and float16
# (transformer bench --dtype), the reference in float32 and under
# torch.autocast("cpu", dtype=torch.bfloat16) (tools/bench/ref_autocast.py).
# Each JSON line carries sec_per_step_median and peak_rss_mb; summarize with
# tools/bench/table.py, which takes the median over ROUNDS interleaved rounds
# (default 3: step times on a shared 2-core machine vary by 20%).
#
# Needs python3-torch and libopenblas0-openmp. Usage:
#   ROUNDS=3 tools/bench/mixed.sh [PRESET...] > results.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
REF=${REF:-../shared/reference/ref_transformer.py}
PRESETS=${*:-tiny small}
ROUNDS=${ROUNDS:-3}
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 GOMAXPROCS=2
py() {
	LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 "$@" | tail -1
}
declare -A SHAPE=(
	[tiny]="--d-model 128 --heads 4 --layers 2 --ff 512 --vocab 8000 --batch 64 --src-len 24 --tgt-len 24 --dropout 0.1"
	[small]="--d-model 256 --heads 4 --layers 3 --ff 1024 --vocab 10000 --batch 64 --src-len 24 --tgt-len 24 --dropout 0.1"
)
source tools/bench/args.sh
check_args
go build -o /tmp/transformer-pure ./cmd/transformer
lscpu | grep -E '^Model name' >&2
grep -o -w -E 'avx512f|avx512_bf16|avx512_fp16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ' >&2
echo >&2
for round in $(seq "$ROUNDS"); do
	for p in $PRESETS; do
		for d in f32 bf16 f16; do
			/tmp/transformer-pure bench --dtype "$d" --name "$p" ${SHAPE[$p]} --steps 23 | tail -1
		done
		py "$REF" --threads 2 --name "$p" ${SHAPE[$p]} --steps 23
		py tools/bench/ref_autocast.py "$REF" --threads 2 --name "$p" ${SHAPE[$p]} --steps 23
	done
done
