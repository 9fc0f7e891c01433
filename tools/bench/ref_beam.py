#!/usr/bin/python3
"""Beam search for the PyTorch reference, which decodes greedily only: the
reference's model and flags, its key/value-cache step (DecLayer.step), and a
beam of --beam hypotheses per sentence for exactly --decode-len steps (no
early stop, as the reference's greedy decoding), reordering the caches by
each step's chosen parents. With --int8 the model's nn.Linear layers are
quantised first (torch.quantization.quantize_dynamic, as ref_int8.py).

    /usr/bin/python3 tools/bench/ref_beam.py ../shared/reference/ref_transformer.py \\
        [--beam 5] [--int8] --decode ...

prints the reference's output with its JSON line's "decode" holding the beam
search's rate as "kvcache" (the greedy figures replaced), and "decode_beam":
the width, for tools/bench/table.py."""
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_int8  # noqa: E402
import refwrap  # noqa: E402


def take(flag, args, value=True):
    """Removes flag (with its value, if value) from args; returns it or None."""
    if flag not in args:
        return None
    i = args.index(flag)
    if not value:
        del args[i]
        return True
    if i + 1 >= len(args):
        sys.exit(f"{sys.argv[0]}: {flag} needs a value")
    v = args[i + 1]
    del args[i:i + 2]
    return v


def beam_kvcache(mod, model, src, n_steps, k):
    """Beam search of width k with the key/value cache: each step scores
    every hypothesis's continuations by log-probability, keeps the k best
    of each sentence's k·V, and reorders the caches by their parents."""
    with torch.inference_mode():
        B = src.shape[0]
        mem, mm = model.encode(src)
        mem, mm = mem.repeat_interleave(k, 0), mm.repeat_interleave(k, 0)
        caches = []
        for layer in model.dec:
            ca = layer.ca
            caches.append({"mk": ca.split(ca.k(mem)), "mv": ca.split(ca.v(mem))})
        tok = torch.full((B * k, 1), mod.BOS, dtype=torch.long)
        scores = torch.full((B, k), float("-inf"))
        scores[:, 0] = 0  # one live hypothesis per sentence at the start
        hist = torch.zeros((B * k, 0), dtype=torch.long)
        base = (torch.arange(B) * k)[:, None]
        for t in range(n_steps):
            y = model.embed(model.tgt_emb, tok, offset=t)
            for layer, c in zip(model.dec, caches):
                y = layer.step(y, c, mm)
            logp = F.log_softmax(model.logits(y)[:, -1], dim=-1)
            logp[:, :mod.EOS] = float("-inf")  # never emit PAD/BOS
            V = logp.shape[1]
            top, idx = (scores.reshape(-1, 1) + logp).reshape(B, k * V).topk(k, dim=1)
            parents = (base + idx // V).reshape(-1)
            for c in caches:
                c["k"], c["v"] = c["k"][parents], c["v"][parents]
            tok = (idx % V).reshape(-1, 1)
            hist = torch.cat([hist[parents], tok], dim=1)
            scores = top
        return hist.reshape(B, k, -1)[:, 0]


def patch(beam, int8):
    def apply(mod):
        if int8:
            ref_int8.patch(mod)  # its nn.Linear layers quantised

        def decode_bench(a, model):
            model.eval()
            gen = torch.Generator().manual_seed(a.seed + 2)
            src = torch.randint(3, a.vocab, (a.decode_batch, a.decode_src_len), generator=gen)
            for _ in range(a.decode_warmup):
                beam_kvcache(mod, model, src, a.decode_len, beam)
            ts = []
            for _ in range(a.decode_reps):
                t0 = time.perf_counter()
                beam_kvcache(mod, model, src, a.decode_len, beam)
                ts.append(time.perf_counter() - t0)
            med = statistics.median(ts)
            print(f"decode beam {beam}: {med:.4f} s/batch  {a.decode_batch / med:.1f} sent/s", flush=True)
            return {"kvcache": {"sec_per_batch_median": round(med, 4), "sec_per_batch_min": round(min(ts), 4),
                                "sentences_per_s": round(a.decode_batch / med, 2),
                                "tokens_per_s": round(a.decode_batch * a.decode_len / med, 1)}}

        mod.decode_bench = decode_bench
    return apply


def main():
    args = sys.argv[2:]
    text = take("--beam", args)
    if text is None:
        text = "5"
    int8 = bool(take("--int8", args, value=False))
    try:
        beam = int(text)
    except ValueError:
        beam = 0
    if not 1 <= beam <= 256:
        sys.exit(f"{sys.argv[0]}: --beam must be a whole number in [1, 256], got {text}")
    extra = {"decode_beam": beam}
    if int8:
        extra.update({"quantized": "dynamic_int8", "quantized_engine": torch.backends.quantized.engine})
    refwrap.run(sys.argv[1], args, patch(beam, int8), extra)


if __name__ == "__main__":
    main()
