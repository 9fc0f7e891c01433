#!/usr/bin/env bash
# Greedy decoding and beam search (beam 5) with float32 and int8 weights,
# ours (pure-Go build, transformer bench --decode [--decode-beam 5] --dtype
# f32|int8) and PyTorch's (the reference, and the reference with
# quantize_dynamic: tools/bench/ref_int8.py; its beam search, which the
# reference lacks: tools/bench/ref_beam.py [--int8]), in interleaved rounds
# on the same machine, for the tiny and small shapes (32 sentences at once,
# the reference's defaults). Prints the JSON lines; tools/bench/table.py
# summarizes them.
#
# Each measurement takes the median of REPS timed decodes (default 20: a
# decode of 32 sentences lasts a few hundredths of a second, and medians of
# 5 moved by a third from run to run on a shared VM).
#
# Needs python3-torch and libopenblas0-openmp (the reference).
#   ROUNDS=3 [REPS=20] tools/bench/int8-decode.sh [PRESET...] > results.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
REF=${REF:-../shared/reference/ref_transformer.py}
PRESETS=${*:-tiny small}
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-20}
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 GOMAXPROCS=2
declare -A SHAPE=(
	[tiny]="--d-model 128 --heads 4 --layers 2 --ff 512 --vocab 8000"
	[small]="--d-model 256 --heads 4 --layers 3 --ff 1024 --vocab 10000"
)
source tools/bench/args.sh
check_args
if ! [[ $REPS =~ ^[1-9][0-9]{0,2}$ ]]; then
	echo "$0: REPS must be a whole number from 1 to 999, not '$REPS'" >&2
	exit 2
fi
go build -o /tmp/transformer-pure ./cmd/transformer
torch() {
	LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 "$@" | tail -1
}
lscpu | grep -E '^Model name' >&2
for round in $(seq "$ROUNDS"); do
	for p in $PRESETS; do
		for d in f32 int8; do
			/tmp/transformer-pure bench --name "$p" ${SHAPE[$p]} --decode --decode-reps "$REPS" --dtype "$d" | tail -1
		done
		torch "$REF" --threads 2 --name "$p" ${SHAPE[$p]} --decode --decode-reps "$REPS"
		torch tools/bench/ref_int8.py "$REF" --threads 2 --name "$p" ${SHAPE[$p]} --decode --decode-reps "$REPS"
		for d in f32 int8; do
			/tmp/transformer-pure bench --name "$p" ${SHAPE[$p]} --decode --decode-beam 5 --decode-reps "$REPS" --dtype "$d" | tail -1
		done
		torch tools/bench/ref_beam.py "$REF" --beam 5 --threads 2 --name "$p" ${SHAPE[$p]} --decode --decode-reps "$REPS"
		torch tools/bench/ref_beam.py "$REF" --beam 5 --int8 --threads 2 --name "$p" ${SHAPE[$p]} --decode --decode-reps "$REPS"
	done
done
