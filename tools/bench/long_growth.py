#!/usr/bin/env python3
"""Medians over repeated `transformer bench-long` runs (JSON lines, one file):
the growth of step time and peak RSS from n = 1,024 to 4,096 for sliding-window
and linear attention, and checkpointing against plain backprop for full
attention at n = 1,024. Usage: tools/bench/long_growth.py FILE.jsonl"""
import json, statistics as st, collections, sys
runs = collections.defaultdict(list)
for l in open(sys.argv[1]):
    d = json.loads(l)
    runs[(d['attention'], d['checkpoint'], d['seq_len'])].append(d)
med = lambda k, f: st.median(r[f] for r in runs[k])
name = lambda a, c: {'sliding_window': 'sliding window (w=64)', 'linear': 'linear', 'full': 'full'}[a] + (' + checkpointing' if c else '')
print("| configuration | runs | step time n=1024 (s) | n=4096 (s) | time growth | peak RSS n=1024 (MB) | n=4096 (MB) | memory growth |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for a in ['sliding_window', 'linear']:
    for c in [False, True]:
        x, y = (a, c, 1024), (a, c, 4096)
        if x in runs and y in runs:
            print(f"| {name(a,c)} | {len(runs[y])} | {med(x,'step_seconds'):.2f} | {med(y,'step_seconds'):.2f} | **{med(y,'step_seconds')/med(x,'step_seconds'):.2f}×** | {med(x,'peak_rss_mb'):.0f} | {med(y,'peak_rss_mb'):.0f} | **{med(y,'peak_rss_mb')/med(x,'peak_rss_mb'):.2f}×** |")
f0, f1 = ('full', False, 1024), ('full', True, 1024)
if f0 in runs and f1 in runs:
    print()
    print("| full attention, n=1024 | runs | step time per run (s) | median | peak RSS (MB) |")
    print("|---|---:|---|---:|---:|")
    for k in (f0, f1):
        print(f"| {name(*k[:2])} | {len(runs[k])} | {', '.join('%.2f' % r['step_seconds'] for r in runs[k])} | {med(k,'step_seconds'):.2f} | {med(k,'peak_rss_mb'):.0f} |")
    print()
    print(f"checkpointing / plain: time {med(f1,'step_seconds')/med(f0,'step_seconds'):.2f}×, peak RSS {med(f1,'peak_rss_mb')/med(f0,'peak_rss_mb'):.0%}")
