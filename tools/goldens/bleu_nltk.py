#!/usr/bin/python3
"""Write data/testdata/bleu_nltk.json: corpus BLEU from NLTK (Debian python3-nltk)
on space-tokenized synthetic corpora, for data.CorpusBLEU with tokenize "none"
and no smoothing. Usage: /usr/bin/python3 tools/goldens/bleu_nltk.py"""
import json, random
from nltk.translate.bleu_score import corpus_bleu

rng = random.Random(7)
words = "the a dog cat man woman bit saw ran over under big small red blue house tree car , . and".split()

def sentence(n):
    return [rng.choice(words) for _ in range(n)]

def perturb(s):
    s = list(s)
    for _ in range(rng.randint(0, 3)):
        op = rng.random()
        i = rng.randrange(len(s) + 1)
        if op < 0.4 and s:
            s[min(i, len(s) - 1)] = rng.choice(words)
        elif op < 0.7:
            s.insert(i, rng.choice(words))
        elif s:
            del s[min(i, len(s) - 1)]
    return s

cases = []
for case in range(12):
    nrefs = 1 + case % 3
    hyps, refs = [], [[] for _ in range(nrefs)]
    for _ in range(rng.randint(5, 40)):
        base = sentence(rng.randint(4, 25))
        hyps.append(perturb(base))
        for k in range(nrefs):
            refs[k].append(perturb(base))
    score = corpus_bleu([[r[i] for r in refs] for i in range(len(hyps))], hyps)
    cases.append({"hyps": [" ".join(h) for h in hyps], "refs": [[" ".join(x) for x in r] for r in refs], "bleu": score * 100})
with open("data/testdata/bleu_nltk.json", "w") as f:
    json.dump({"generator": "tools/goldens/bleu_nltk.py (NLTK corpus_bleu, default weights, no smoothing)", "cases": cases}, f, indent=1)
print(len(cases), "cases;", ", ".join("%.4f" % c["bleu"] for c in cases))
