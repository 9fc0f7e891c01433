#!/usr/bin/env python3
"""Writes PyTorch fixtures for the long-sequence attention kinds under
testdata/goldens/ (run from the repository root with Debian's python3-torch):

    /usr/bin/python3 tools/goldens/long_attention.py

* mha_sliding_window*: nn.MultiheadAttention with a float band mask (keys
  i-w..i+w plus global positions) and key padding: PyTorch's own attention.
* mha_relative_bias*: nn.MultiheadAttention whose float attn_mask carries
  T5's relative-position bias (HuggingFace's _relative_position_bucket, the
  table an nn.Embedding(buckets, heads)), plus the causal mask.
* mha_linear*: linear attention with phi = elu + 1 (Katharopoulos et al.,
  2020) written out with the module's projections; causal via cumsum.
* mha_rope*: rotary position embeddings (Su et al., 2021) on the queries
  and keys, attention written out with the module's projections.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from gen import randn, randomize, write  # noqa: E402

torch.set_default_dtype(torch.float64)
NEG = -1e9  # graph.MaskValue


def band_mask(n, w, glob, causal):
    m = torch.full((n, n), NEG)
    for i in range(n):
        for j in range(n):
            ok = abs(i - j) <= w or i in glob or j in glob
            if causal and j > i:
                ok = False
            if ok:
                m[i, j] = 0.0
    return m


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    # HuggingFace transformers, models/t5/modeling_t5.py
    ret = 0
    n = -relative_position
    if bidirectional:
        num_buckets //= 2
        ret += (n < 0).to(torch.long) * num_buckets
        n = torch.abs(n)
    else:
        n = torch.max(n, torch.zeros_like(n))
    max_exact = num_buckets // 2
    is_small = n < max_exact
    val_if_large = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
    return ret + torch.where(is_small, n, val_if_large)


class RelMHA(nn.Module):
    def __init__(self, d, h, buckets, max_distance, bidirectional):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.relative_bias = nn.Embedding(buckets, h)
        self.h, self.buckets, self.max_distance, self.bi = h, buckets, max_distance, bidirectional

    def forward(self, x, pad, causal):
        b, n, _ = x.shape
        pos = torch.arange(n)
        rel = pos[None, :] - pos[:, None]  # key - query
        bucket = relative_position_bucket(rel, self.bi, self.buckets, self.max_distance)
        bias = self.relative_bias(bucket).permute(2, 0, 1)  # [h, n, n]
        if causal:
            bias = bias + torch.triu(torch.full((n, n), NEG), 1)
        mask = bias.unsqueeze(0).expand(b, -1, -1, -1).reshape(b * self.h, n, n)
        out, _ = self.attn(x, x, x, key_padding_mask=pad, attn_mask=mask)
        return out


class LinearMHA(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.h = h

    def forward(self, x, pad, causal):
        b, n, d = x.shape
        q, k, v = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias).chunk(3, dim=-1)
        split = lambda t: t.reshape(b, n, self.h, d // self.h).transpose(1, 2)  # noqa: E731
        q, k, v = split(q), split(k), split(v)
        fq, fk = F.elu(q) + 1, F.elu(k) + 1
        fk = fk * (~pad).to(fk.dtype)[:, None, :, None]
        if causal:
            kv = torch.cumsum(fk.unsqueeze(-1) * v.unsqueeze(-2), dim=2)  # [b,h,n,dk,dv]
            num = torch.einsum("bhnd,bhnde->bhne", fq, kv)
            den = torch.einsum("bhnd,bhnd->bhn", fq, torch.cumsum(fk, dim=2))
        else:
            kv = torch.einsum("bhnd,bhne->bhde", fk, v)
            num = torch.einsum("bhnd,bhde->bhne", fq, kv)
            den = torch.einsum("bhnd,bhd->bhn", fq, fk.sum(dim=2))
        ctx = num / (den.unsqueeze(-1) + 1e-6)
        ctx = ctx.transpose(1, 2).reshape(b, n, d)
        return self.attn.out_proj(ctx)


class RopeMHA(nn.Module):
    """Rotary position embeddings (Su et al., 2021) on the queries and keys
    of nn.MultiheadAttention's projections, interleaved pairs (2i, 2i+1) of
    each head rotated by position * 10000^(-2i/dh), as in RoFormer."""

    def __init__(self, d, h):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.h = h

    def rotate(self, t):  # t: [b, h, n, dh]
        n, dh = t.shape[2], t.shape[3]
        theta = 10000.0 ** (-torch.arange(0, dh, 2, dtype=torch.float64) / dh)  # [dh/2]
        angle = torch.arange(n, dtype=torch.float64)[:, None] * theta[None, :]  # [n, dh/2]
        cos, sin = torch.cos(angle), torch.sin(angle)
        even, odd = t[..., 0::2], t[..., 1::2]
        out = torch.empty_like(t)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def forward(self, x, pad, causal):
        b, n, d = x.shape
        q, k, v = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias).chunk(3, dim=-1)
        split = lambda t: t.reshape(b, n, self.h, d // self.h).transpose(1, 2)  # noqa: E731
        q, k, v = self.rotate(split(q)), self.rotate(split(k)), split(v)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.h)
        scores = scores + torch.where(pad, NEG, 0.0)[:, None, None, :]
        if causal:
            scores = scores + torch.triu(torch.full((n, n), NEG), 1)
        ctx = torch.softmax(scores, dim=-1) @ v
        return self.attn.out_proj(ctx.transpose(1, 2).reshape(b, n, d))


def main():
    d, h, n = 8, 2, 9
    pad = torch.tensor([[False] * n, [False] * (n - 2) + [True] * 2])
    padf = pad.to(torch.float64)

    for name, w, glob, causal in (("mha_sliding_window", 2, [0], False), ("mha_sliding_window_causal", 1, [0, 4], True)):
        torch.manual_seed(11)
        m = nn.MultiheadAttention(d, h, batch_first=True)
        randomize(m)
        x = randn(2, n, d)
        out, _ = m(x, x, x, key_padding_mask=pad, attn_mask=band_mask(n, w, glob, causal))
        write(name, {"d_model": d, "heads": h, "kind": "sliding_window", "window": w, "global": glob, "causal": causal},
              m, {"x": x, "key_padding_mask": padf}, out)

    for name, causal in (("mha_linear", False), ("mha_linear_causal", True)):
        torch.manual_seed(12)
        m = LinearMHA(d, h)
        randomize(m)
        x = randn(2, n, d)
        out = m(x, pad, causal)
        write(name, {"d_model": d, "heads": h, "kind": "linear", "causal": causal}, m,
              {"x": x, "key_padding_mask": padf}, out)

    for name, bi in (("mha_relative_bias", True), ("mha_relative_bias_causal", False)):
        torch.manual_seed(13)
        m = RelMHA(d, h, 8, 6, bi)
        randomize(m)
        x = randn(2, n, d)
        out = m(x, pad, not bi)
        write(name, {"d_model": d, "heads": h, "kind": "full", "causal": not bi, "buckets": 8, "max_distance": 6,
                     "bidirectional": bi}, m, {"x": x, "key_padding_mask": padf}, out)

    for name, causal in (("mha_rope", False), ("mha_rope_causal", True)):
        torch.manual_seed(14)
        m = RopeMHA(d, h)
        randomize(m)
        x = randn(2, n, d)
        out = m(x, pad, causal)
        write(name, {"d_model": d, "heads": h, "kind": "full", "causal": causal, "positions": "rope"}, m,
              {"x": x, "key_padding_mask": padf}, out)


if __name__ == "__main__":
    main()
