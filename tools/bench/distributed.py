#!/usr/bin/env python3
"""Fit the all-reduce cost model of docs/distributed.md and project data-parallel
training to more nodes.

Usage: tools/bench/distributed.py ALLREDUCE.jsonl BENCH.jsonl
  ALLREDUCE.jsonl: lines of tools/allreduce (mpirun -np 2), {"bytes", "seconds_median"}
  BENCH.jsonl:     lines of `transformer bench` (one per shape), {"name", "parameters", "sec_per_step_median", ...}

Model. A ring all-reduce of S bytes over N nodes sends and receives
2(N-1)/N * S bytes per node and takes 2(N-1) latency-bound steps per bucket:

    T_ar(N) = nb * 2(N-1) * alpha + 2(N-1)/N * S / B

with nb = ceil(S / bucket) buckets. alpha and B are fitted to the measured
two-rank all-reduce here (shared memory: N = 2 gives t = alpha*2*1 + S/B, one
bucket per call). For a network, B is the link's bandwidth and alpha the
larger of the fitted one and the link's latency (stated in the table).
Gorgonia's tape runs backward as one program, so the all-reduce cannot overlap
it: a step takes T_c + T_ar, and the efficiency is T_c / (T_c + T_ar).
"""
import json
import math
import sys

BUCKET = 4 << 20  # bytes per all-reduce call (train/accumulate.go: 1 Mi float32)


def fit(rows):
    # Least squares t = a + b*bytes in relative error (weights 1/t^2), so
    # that the small sizes, which fix the latency, count as much as the
    # large ones (N = 2: a = 2*alpha, b = 1/B).
    xs = [r["bytes"] for r in rows]
    ys = [r["seconds_median"] for r in rows]
    ws = [1 / y ** 2 for y in ys]
    sw = sum(ws)
    mx = sum(w * x for w, x in zip(ws, xs)) / sw
    my = sum(w * y for w, y in zip(ws, ys)) / sw
    b = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys)) / sum(w * (x - mx) ** 2 for w, x in zip(ws, xs))
    a = my - b * mx
    return max(a / 2, 1e-7), 1 / b  # alpha (s), bandwidth (bytes/s)


def t_ar(S, N, alpha, B):
    if N == 1:
        return 0.0
    nb = math.ceil(S / BUCKET)
    return nb * 2 * (N - 1) * alpha + 2 * (N - 1) / N * S / B


def main():
    ar = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
    bench = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
    # Fit on the sizes up to 4 buckets: the all-reduce never sends more in
    # one call, and larger buffers leave the caches (the model says so).
    fitted = [r for r in ar if r["bytes"] <= 4 * BUCKET]
    alpha, B = fit(fitted)
    print(f"fit over {len(fitted)} sizes ({fitted[0]['bytes']} … {fitted[-1]['bytes']} bytes, 2 ranks, shared memory): "
          f"alpha = {alpha*1e6:.1f} µs, B = {B/1e9:.2f} GB/s")
    print()
    print("| bytes | measured | model |")
    print("|---|---|---|")
    for r in ar:
        note = "" if r in fitted else " (not fitted)"
        print(f"| {r['bytes']:,} | {r['seconds_median']*1e3:.3f} ms | {t_ar(r['bytes'], 2, alpha, B)*1e3:.3f} ms{note} |")
    print()
    nets = [("10 Gb/s", 10e9 / 8, 20e-6), ("100 Gb/s", 100e9 / 8, 5e-6)]
    print("| shape | parameters | gradient MB | network | nodes | all-reduce per step | step | efficiency | target tokens/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b in bench:
        S = 4 * b["parameters"]
        tc = b["sec_per_step_median"]
        tokens = b["config"]["batch"] * b["config"]["tgt_len"]
        for name, bw, lat in nets:
            for N in (1, 8, 32, 128):
                a = t_ar(S, N, max(alpha, lat), bw)
                step = tc + a
                print(f"| {b['name']} | {b['parameters']:,} | {S/1e6:.1f} | {name} (latency {lat*1e6:.0f} µs) | {N} | "
                      f"{a*1e3:.1f} ms | {step:.3f} s | {tc/step:.1%} | {N*tokens/step:,.0f} |")


if __name__ == "__main__":
    main()
