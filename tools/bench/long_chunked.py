#!/usr/bin/env python3
"""Table of tools/bench/long-chunked.sh's results (JSON lines of `transformer
bench-long`): per configuration the median step time and peak RSS at each
length, the growth from n = 1,024 to 4,096, and chunked against unchunked at
the same length. Usage: tools/bench/long_chunked.py FILE.jsonl"""
import json, statistics as st, collections, sys
runs = collections.defaultdict(list)
for l in open(sys.argv[1]):
    d = json.loads(l)
    runs[(d.get('chunk', 0), d['checkpoint'], d['seq_len'])].append(d)
med = lambda k, f: st.median(r[f] for r in runs[k])
name = lambda c, k: ('full, chunk %d' % c if c else 'full') + (' + checkpointing' if k else '')
lens = sorted({k[2] for k in runs})
print("| configuration | runs | " + " | ".join(f"step time n={n} (s)" for n in lens) + " | time growth 1024→4096 | "
      + " | ".join(f"peak RSS n={n} (MB)" for n in lens) + " | memory growth 1024→4096 |")
print("|---|---:|" + "---:|" * (2 * len(lens) + 2))
for c, k in sorted({(k[0], k[1]) for k in runs}, key=lambda x: (x[1], x[0])):
    cells = lambda f, fmt: [fmt % med((c, k, n), f) if (c, k, n) in runs else "—" for n in lens]
    growth = lambda f: ("**%.2f×**" % (med((c, k, 4096), f) / med((c, k, 1024), f))) if (c, k, 1024) in runs and (c, k, 4096) in runs else "—"
    reps = max(len(runs[(c, k, n)]) for n in lens if (c, k, n) in runs)
    print(f"| {name(c, k)} | {reps} | " + " | ".join(cells('step_seconds', '%.2f')) + f" | {growth('step_seconds')} | "
          + " | ".join(cells('peak_rss_mb', '%.0f')) + f" | {growth('peak_rss_mb')} |")
print()
for k in (False, True):
    for n in lens:
        chunks = sorted(c for c in {x[0] for x in runs} if c and (c, k, n) in runs)
        if (0, k, n) not in runs:
            continue
        for c in chunks:
            per = [f"{a['step_seconds'] / b['step_seconds']:.2f}" for a, b in zip(runs[(c, k, n)], runs[(0, k, n)])]
            print(f"- n = {n}{' with checkpointing' if k else ''}: chunk {c} / unchunked step time "
                  f"{med((c, k, n), 'step_seconds') / med((0, k, n), 'step_seconds'):.2f}× (per interleaved pair: {', '.join(per)}), "
                  f"peak RSS {med((c, k, n), 'peak_rss_mb') / med((0, k, n), 'peak_rss_mb'):.0%}")
