#!/usr/bin/env bash
# Measure this project (pure Go and OpenBLAS builds) and the PyTorch
# reference side by side, on the same machine in the same run, for the
# reference's tiny and small shapes: training throughput and greedy decoding.
# The pure-Go build runs once per kernel the CPU has (--kernel avx512, avx2:
# the AVX-512 path, then with it disabled); decoding also runs with int8
# weights, ours and PyTorch's (tools/bench/ref_int8.py). Prints every JSON line; summarize
# them with tools/bench/table.py.
#
# Needs: python3-torch and libopenblas0-openmp (the reference), libopenblas-dev
# (our OpenBLAS build). Usage: tools/bench/compare.sh [PRESET...] > results.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
REF=${REF:-../shared/reference/ref_transformer.py}
PRESETS=${*:-tiny small}
go build -o /tmp/transformer-pure ./cmd/transformer
CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas -o /tmp/transformer-openblas ./cmd/transformer
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 GOMAXPROCS=2
ref() {
	LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 "$REF" --threads 2 "$@" | tail -1
}
# The reference with its nn.Linear layers quantised by quantize_dynamic.
ref_int8() {
	LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/bench/ref_int8.py "$REF" --threads 2 "$@" | tail -1
}
declare -A SHAPE=(
	[tiny]="--d-model 128 --heads 4 --layers 2 --ff 512 --vocab 8000 --batch 64 --src-len 24 --tgt-len 24 --dropout 0.1"
	[small]="--d-model 256 --heads 4 --layers 3 --ff 1024 --vocab 10000 --batch 64 --src-len 24 --tgt-len 24 --dropout 0.1"
)
# The assembly kernels this CPU runs (avx512, avx2), from --help's list.
KERNELS=$(/tmp/transformer-pure --help | sed -n 's/.*matrix-product kernel: \(.*\) (default.*/\1/p' | tr -d , | sed 's/ go$//')
lscpu | grep -E '^Model name' >&2
for p in $PRESETS; do
	for k in $KERNELS; do
		/tmp/transformer-pure bench --kernel "$k" --name "$p" ${SHAPE[$p]} --steps 13 | tail -1
	done
	/tmp/transformer-openblas bench --name "$p" ${SHAPE[$p]} --steps 13 | tail -1
	ref --name "$p" ${SHAPE[$p]} --steps 13
	for k in $KERNELS; do
		/tmp/transformer-pure bench --kernel "$k" --name "$p" ${SHAPE[$p]} --decode | tail -1
	done
	/tmp/transformer-openblas bench --name "$p" ${SHAPE[$p]} --decode | tail -1
	ref --name "$p" ${SHAPE[$p]} --decode
	# int8 weights: ours (the int8 kernel follows the CPU, the float32 one
	# --kernel) and PyTorch's dynamic quantisation.
	/tmp/transformer-pure bench --name "$p" ${SHAPE[$p]} --decode --dtype int8 | tail -1
	ref_int8 --name "$p" ${SHAPE[$p]} --decode
done
