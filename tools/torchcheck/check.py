#!/usr/bin/env python3
"""Moves weights both ways between this project and PyTorch and compares
logits on the same token ids (run by hand; needs Debian's python3-torch):

    go build -o /tmp/transformer ./cmd/transformer
    /usr/bin/python3 tools/torchcheck/check.py --checkpoint checkpoints/numbers-en-de

1. export: `transformer export` writes the checkpoint as a state dict, which
   loads into Seq2Seq (tools/goldens/seq2seq.py) with strict=True; PyTorch's
   logits are compared with the Go model's.
2. import: a PyTorch-initialised Seq2Seq is saved as safetensors,
   `transformer import` turns it into a checkpoint, and the Go logits of
   that checkpoint are compared with PyTorch's.

The relative difference is max|go − torch| / max|torch| over all logits.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "goldens"))
from seq2seq import Seq2Seq  # noqa: E402

SENTENCES = ["four hundred twenty-one", "three hundred forty-two thousand five", "seventeen",
             "nine hundred ninety-nine thousand nine hundred ninety-nine", "one thousand one"]
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.int16}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for k, v in header.items():
        a, b = v["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=DTYPES[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(arr.copy())
        if v["dtype"] == "BF16":
            out[k] = out[k].view(torch.bfloat16)
    return out, meta


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        b = tensors[k].detach().to(torch.float32).contiguous().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def go_logits(checkpoint, out):
    subprocess.run(["go", "run", "./tools/torchcheck", "--checkpoint", checkpoint, "--out", out] + SENTENCES, check=True)
    with open(out) as f:
        d = json.load(f)
    b, s, t, v = d["batch"], d["src_len"], d["tgt_len"], d["vocab"]
    src = torch.tensor(d["src"]).reshape(b, s)
    tgt = torch.tensor(d["tgt"]).reshape(b, t)
    return src, tgt, torch.tensor(d["logits"]).reshape(b, t, v)


def rel_diff(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--transformer", default="/tmp/transformer")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()

    exported = os.path.join(tmp, "exported.safetensors")
    subprocess.run([args.transformer, "export", "--checkpoint", args.checkpoint, "--out", exported], check=True)
    sd, meta = read_safetensors(exported)
    dtypes = sorted({str(t.dtype) for t in sd.values()})
    margs = json.loads(meta["seq2seq_args"])
    m = Seq2Seq(**margs)
    m.load_state_dict(sd, strict=True)
    m.eval()
    src, tgt, go = go_logits(args.checkpoint, os.path.join(tmp, "go.json"))
    with torch.no_grad():
        pt = m(src, tgt).to(torch.float64)
    d1 = rel_diff(go, pt)
    print(f"export: load_state_dict(strict=True) ok, {len(sd)} tensors ({', '.join(dtypes)}); logits {tuple(pt.shape)}; "
          f"max relative difference {d1:.2e}; argmax agreement {(go.argmax(-1) == pt.argmax(-1)).float().mean().item():.4f}")

    torch.manual_seed(0)
    fresh = Seq2Seq(**margs).eval()
    state = os.path.join(tmp, "pytorch_init.safetensors")
    write_safetensors(state, fresh.state_dict())
    imported = os.path.join(tmp, "imported")
    subprocess.run([args.transformer, "import", "--state-dict", state, "--like", args.checkpoint, "--out", imported], check=True)
    src, tgt, go = go_logits(imported, os.path.join(tmp, "go2.json"))
    with torch.no_grad():
        pt = fresh(src, tgt).to(torch.float64)
    d2 = rel_diff(go, pt)
    print(f"import: PyTorch-initialised module; logits {tuple(pt.shape)}; max relative difference {d2:.2e}")
    ok = d1 <= 1e-5 and d2 <= 1e-5
    print("PASS" if ok else "FAIL", "(threshold 1e-5)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
