#!/usr/bin/env bash
# Greedy decoding with float32, float16 and bfloat16 weight matrices (pure-Go
# build, transformer bench --decode --dtype) beside the PyTorch reference's
# float32 decoding, on the same machine in the same run, for the tiny and
# small shapes, one sentence at a time and 32 at once. Prints the JSON lines
# and then a table (sentences per second with the key/value cache).
#
# Needs python3-torch and libopenblas0-openmp (the reference).
#   REF=../shared/reference/ref_transformer.py tools/bench/half-decode.sh [PRESET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
REF=${REF:-../shared/reference/ref_transformer.py}
PRESETS=${*:-tiny small}
go build -o /tmp/transformer-pure ./cmd/transformer
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 GOMAXPROCS=2
declare -A SHAPE=(
	[tiny]="--d-model 128 --heads 4 --layers 2 --ff 512 --vocab 8000"
	[small]="--d-model 256 --heads 4 --layers 3 --ff 1024 --vocab 10000"
)
out=$(mktemp)
for p in $PRESETS; do
	for batch in 1 32; do
		reps=3
		[ "$batch" = 1 ] && reps=20
		for d in f32 f16 bf16; do
			/tmp/transformer-pure bench --name "$p/b$batch/$d" ${SHAPE[$p]} --decode --decode-batch "$batch" --decode-reps "$reps" --dtype "$d" | tail -1 | tee -a "$out"
		done
		LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 "$REF" --threads 2 --name "$p/b$batch/torch-f32" ${SHAPE[$p]} \
			--decode --decode-batch "$batch" --decode-reps "$reps" | tail -1 | tee -a "$out"
	done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["name"]: r for r in rows}
def speed(r):
    return r["decode"]["kvcache"]["sentences_per_s"] if "decode" in r else r["decode_kvcache_sent_per_s"]
print("| shape | sentences at once | ours f32 | ours f16 | ours bf16 | PyTorch f32 | f16 / f32 | bf16 / f32 | f16 / PyTorch | weights f32 → f16 (MB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for key in dict.fromkeys(n.rsplit("/", 1)[0] for n in by):
    s = {d: speed(by[f"{key}/{d}"]) for d in ("f32", "f16", "bf16", "torch-f32")}
    shape, b = key.split("/")
    print(f"| {shape} | {b[1:]} | {s['f32']:.1f} | {s['f16']:.1f} | {s['bf16']:.1f} | {s['torch-f32']:.1f} | "
          f"{s['f16']/s['f32']:.2f}× | {s['bf16']/s['f32']:.2f}× | {s['f16']/s['torch-f32']:.2f}× | "
          f"{by[key+'/f32']['weight_mb']:.1f} → {by[key+'/f16']['weight_mb']:.1f} |")
PY
