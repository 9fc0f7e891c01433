#!/usr/bin/python3
"""Turn the JSON lines of tools/bench/compare.sh into Markdown tables with
ratios to PyTorch. Usage: /usr/bin/python3 tools/bench/table.py results.jsonl"""
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def decoding(r):
    return "decode" in r or "decode_kvcache_sent_per_s" in r


def rates(r):
    """A decoding row's sentences per second with the cache and without,
    and whether the outputs agreed (None for beam search, which runs with
    the cache alone)."""
    if "decode" in r:
        d = r["decode"]
        return d["kvcache"]["sentences_per_s"], d.get("recompute", {}).get("sentences_per_s"), d.get("outputs_identical")
    return r["decode_kvcache_sent_per_s"], r.get("decode_recompute_sent_per_s"), r.get("decode_outputs_identical")


def search(r):
    """greedy, or beam N (transformer bench --decode --decode-beam N,
    tools/bench/ref_beam.py --beam N)."""
    return f"beam {r['decode_beam']}" if r.get("decode_beam", 1) > 1 else "greedy"


def merged(rows):
    """Rows of repeated rounds (tools/bench/mixed.sh, int8-decode.sh with
    ROUNDS=3) merged into one per implementation: the median of each
    round's median step time and of its peak RSS, or of its decoding
    rates."""
    groups = {}
    for r in rows:
        if not ("train" in r or "sec_per_step_median" in r or decoding(r)):
            groups[id(r)] = [r]
            continue
        groups.setdefault((name(r), who(r), decoding(r), search(r)), []).append(r)
    out = []
    for g in groups.values():
        r = json.loads(json.dumps(g[0]))
        if len(g) > 1 and decoding(r):
            kv = median([rates(x)[0] for x in g])
            rc = median([rates(x)[1] for x in g]) if rates(r)[1] is not None else None
            same = all(rates(x)[2] for x in g) if rates(r)[2] is not None else None
            if "decode" in r:
                r["decode"]["kvcache"]["sentences_per_s"] = kv
                if rc is not None:
                    r["decode"]["recompute"]["sentences_per_s"], r["decode"]["outputs_identical"] = rc, same
            else:
                r["decode_kvcache_sent_per_s"] = kv
                if rc is not None:
                    r["decode_recompute_sent_per_s"], r["decode_outputs_identical"] = rc, same
            r["rounds"] = len(g)
        elif len(g) > 1:
            t = r.get("train", r)
            sec = median([x.get("train", x)["sec_per_step_median"] for x in g])
            scale = t["sec_per_step_median"] / sec
            t["sec_per_step_median"] = sec
            t["tgt_positions_per_s"] *= scale
            t["achieved_gflops"] *= scale
            r["peak_rss_mb"] = median([x["peak_rss_mb"] for x in g])
            r["rounds"] = len(g)
        out.append(r)
    return out

def who(r):
    if r.get("impl") == "gotransformer":
        w = ", int8 weights" if r.get("weights") == "int8" else ""
        if r.get("weights") in ("bf16", "f16") and "sec_per_step_median" in r:
            w = ", mixed precision " + r["weights"]
        if r["blas"] == "openblas":
            return "ours, OpenBLAS" + w
        return "ours, pure Go" + (f" ({r['kernel']})" if r.get("kernel") else "") + w
    q = ", dynamic int8" if r.get("quantized") else ""
    if r.get("autocast"):
        q = ", autocast " + r["autocast"]
    return "PyTorch " + r.get("torch_version", "") + q

def name(r):
    return r.get("name") or r.get("config", {}).get("name", "")

rows = merged(rows)
print("| shape | implementation | s/step (median) | target positions/s | ratio to PyTorch | GFLOP/s | peak RSS MB | RSS ratio |")
print("|---|---|---|---|---|---|---|---|")
for preset in dict.fromkeys(name(r) for r in rows):
    train = [r for r in rows if name(r) == preset and ("train" in r or "sec_per_step_median" in r)]
    ref = next((r for r in train if "train" in r and not r.get("quantized") and not r.get("autocast")), None)
    for r in train:
        t = r.get("train", r)
        ratio = t["tgt_positions_per_s"] / ref["train"]["tgt_positions_per_s"] if ref else float("nan")
        rss = r["peak_rss_mb"] / ref["peak_rss_mb"] if ref else float("nan")
        print(f"| {preset} | {who(r)} | {t['sec_per_step_median']:.3f} | {t['tgt_positions_per_s']:.0f} | {ratio:.2f}× | "
              f"{t['achieved_gflops']:.1f} | {r['peak_rss_mb']:.0f} | {rss:.2f}× |")
print()
print("| shape | search | implementation | KV cache (sentences/s) | ratio to PyTorch float32 | ratio to our float32 | recompute (sentences/s) | outputs identical |")
print("|---|---|---|---|---|---|---|---|")
for preset in dict.fromkeys(name(r) for r in rows):
    for how in dict.fromkeys(search(r) for r in rows if name(r) == preset and decoding(r)):
        dec = [r for r in rows if name(r) == preset and decoding(r) and search(r) == how]
        ref = next((r for r in dec if "decode" in r and not r.get("quantized") and not r.get("autocast")), None)
        ours = next((r for r in dec if r.get("impl") == "gotransformer" and r.get("weights") == "f32"), None)
        for r in dec:
            kv, rc, same = rates(r)
            ratio = f"{kv / rates(ref)[0]:.2f}×" if ref else "—"
            mine = f"{kv / rates(ours)[0]:.2f}×" if ours else "—"
            rc = f"{rc:.1f}" if rc is not None else "—"
            same = same if same is not None else "—"
            print(f"| {preset} | {how} | {who(r)} | {kv:.1f} | {ratio} | {mine} | {rc} | {same} |")
