#!/usr/bin/python3
"""The PyTorch reference trained under torch.autocast("cpu", dtype=...)
(bfloat16 by default, --autocast-dtype float16): the model's forward pass
runs in autocast, so its linear layers and matrix products take bfloat16
inputs, and the logits come back as float32 for the loss, as the PyTorch
documentation recommends. Takes the reference's own flags after its path:

    /usr/bin/python3 tools/bench/ref_autocast.py ../shared/reference/ref_transformer.py --steps 13 ...

and prints the reference's output, its JSON line marked "autocast":
"bfloat16"."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refwrap  # noqa: E402

flags = sys.argv[2:]
dtype = "bfloat16"
if "--autocast-dtype" in flags:
    i = flags.index("--autocast-dtype")
    dtype = flags[i + 1]
    del flags[i:i + 2]


def patch(mod):
    class Autocast(mod.Transformer):
        def forward(self, *a, **k):
            with torch.autocast("cpu", dtype=getattr(torch, dtype)):
                out = super().forward(*a, **k)
            return out.float()

    mod.Transformer = Autocast


refwrap.run(sys.argv[1], flags, patch, {"autocast": dtype})
