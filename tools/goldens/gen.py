#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures under testdata/goldens/.

Run from the repository root with Debian's PyTorch (apt-get install
python3-torch):

    /usr/bin/python3 tools/goldens/gen.py

Every fixture is float64 and holds a module's state dict ("param/NAME"),
its inputs ("input/NAME"), the output ("out"), a fixed random probe W and
the gradients of loss = sum(out * W) with respect to every parameter
("grad/NAME") and float input ("grad_input/NAME"). The Go tests load the same
weights into this project's layers and compare.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from seq2seq import Seq2Seq  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "goldens")
torch.set_default_dtype(torch.float64)


def tensors(prefix, d):
    return {f"{prefix}/{k}": v.detach().to(torch.float64) for k, v in d.items()}


def write(name, config, module, inputs, out, extra=None):
    """inputs: name -> tensor (float inputs get gradients recorded)."""
    torch.manual_seed(1234)
    probe = torch.randn(out.shape)
    (out * probe).sum().backward()
    t = {}
    t.update(tensors("param", module.state_dict()))
    t.update({f"grad/{k}": p.grad for k, p in module.named_parameters()})
    for k, v in inputs.items():
        t[f"input/{k}"] = v.to(torch.float64)
        if v.is_floating_point() and v.grad is not None:
            t[f"grad_input/{k}"] = v.grad
    t.update(extra or {})
    t["out"] = out.detach()
    t["probe"] = probe
    doc = {"name": name, "config": config,
           "tensors": {k: {"shape": list(v.shape), "data": [float(x) for x in v.detach().reshape(-1).tolist()]}
                       for k, v in sorted(t.items())}}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print("wrote", name, sum(v.numel() for v in t.values()), "numbers")


def randn(*shape):
    return torch.randn(*shape).requires_grad_()


def randomize(module, std=0.3):
    """Random weights everywhere (biases and layer-norm shifts included), so
    that no gradient is trivially zero."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape) * std)


def causal(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), 1)


def mha_cases():
    torch.manual_seed(1)
    d, h = 8, 2
    m = nn.MultiheadAttention(d, h, batch_first=True)
    randomize(m)
    x = randn(2, 4, d)
    pad = torch.tensor([[False, False, False, True], [False, False, False, False]])
    out, _ = m(x, x, x, key_padding_mask=pad, attn_mask=causal(4))
    write("mha_self_padding_causal", {"d_model": d, "heads": h, "causal": True}, m,
          {"x": x, "key_padding_mask": pad.to(torch.float64)}, out)

    torch.manual_seed(2)
    m = nn.MultiheadAttention(d, h, batch_first=True)
    randomize(m)
    q, kv = randn(2, 3, d), randn(2, 5, d)
    pad = torch.tensor([[False, False, False, True, True], [False] * 5])
    out, _ = m(q, kv, kv, key_padding_mask=pad)
    write("mha_cross_padding", {"d_model": d, "heads": h, "causal": False}, m,
          {"q": q, "kv": kv, "key_padding_mask": pad.to(torch.float64)}, out)


def layer_cases():
    d, h, ff = 8, 2, 16
    for norm_first in (False, True):
        for act in ("relu", "gelu"):
            tag = f"{'pre' if norm_first else 'post'}_{act}"
            cfg = {"d_model": d, "heads": h, "ff_dim": ff, "norm_first": norm_first, "activation": act}

            torch.manual_seed(3)
            enc = nn.TransformerEncoderLayer(d, h, ff, 0.0, act, batch_first=True, norm_first=norm_first)
            randomize(enc)
            x = randn(2, 5, d)
            pad = torch.tensor([[False] * 3 + [True] * 2, [False] * 5])
            out = enc(x, src_key_padding_mask=pad)
            write("encoder_layer_" + tag, cfg, enc, {"x": x, "key_padding_mask": pad.to(torch.float64)}, out)

            torch.manual_seed(4)
            dec = nn.TransformerDecoderLayer(d, h, ff, 0.0, act, batch_first=True, norm_first=norm_first)
            randomize(dec)
            y, mem = randn(2, 4, d), randn(2, 5, d)
            tpad = torch.tensor([[False] * 3 + [True], [False] * 4])
            mpad = torch.tensor([[False] * 4 + [True], [False] * 5])
            out = dec(y, mem, tgt_mask=causal(4), tgt_key_padding_mask=tpad, memory_key_padding_mask=mpad)
            write("decoder_layer_" + tag, cfg, dec,
                  {"y": y, "memory": mem, "tgt_key_padding_mask": tpad.to(torch.float64),
                   "memory_key_padding_mask": mpad.to(torch.float64)}, out)


def transformer_cases():
    for name, kw in (
        ("transformer_post_relu_sinusoidal", dict(norm_first=False, activation="relu", positions="sinusoidal", tie_output=False)),
        ("transformer_pre_gelu_learned_tied", dict(norm_first=True, activation="gelu", positions="learned", tie_output=True)),
    ):
        torch.manual_seed(5)
        cfg = dict(src_vocab=11, tgt_vocab=13, d_model=8, nhead=2, num_encoder_layers=2,
                   num_decoder_layers=2, dim_feedforward=16, dropout=0.0, max_positions=16, **kw)
        m = Seq2Seq(**cfg)
        randomize(m)
        src = torch.tensor([[4, 5, 6, 7, 3], [8, 9, 3, 0, 0]])
        tgt = torch.tensor([[2, 4, 5, 6], [2, 7, 0, 0]])
        out = m(src, tgt)
        write(name, cfg, m, {"src": src, "tgt": tgt}, out)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    mha_cases()
    layer_cases()
    transformer_cases()
