#!/usr/bin/env python3
"""Writes testdata/goldens/half.json: float32 values and PyTorch's float16
and bfloat16 roundings of them, by bits, for the tests of package half.

    /usr/bin/python3 tools/goldens/half.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "goldens", "half.json")

g = torch.Generator().manual_seed(7)
# Random bit patterns cover every exponent (NaNs included); scaled normals
# cover the ranges weights live in; the specials cover the edges.
bits = torch.randint(-(2**31), 2**31, (6000,), generator=g, dtype=torch.int64).to(torch.int32)
values = [bits.view(torch.float32)]
for scale in (1e-8, 1e-5, 1e-3, 0.1, 1.0, 100.0, 6e4, 1e5):
    values.append(torch.randn(500, generator=g) * scale)
specials = [0.0, -0.0, float("inf"), float("-inf"), 65504.0, 65519.99, 65520.0, 2.0**-24, 2.0**-25,
            2.0**-25 * 1.0000001, 2.0**-14, 2.0**-14 * (1 - 2.0**-11), 1 + 2.0**-11, 1 + 3 * 2.0**-11,
            3.3895314e38, 3.4028235e38, 1 + 2.0**-8, 1 + 3 * 2.0**-8, 1e-40, -1e-45]
values.append(torch.tensor(specials, dtype=torch.float32))
x = torch.cat(values).to(torch.float32)
f16 = x.to(torch.float16).view(torch.int16).to(torch.int64) & 0xFFFF
bf16 = x.to(torch.bfloat16).view(torch.int16).to(torch.int64) & 0xFFFF
f32 = x.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "f32": f32.tolist(), "f16": f16.tolist(), "bf16": bf16.tolist()}, f)
print(f"wrote {len(x)} values to {OUT}")
