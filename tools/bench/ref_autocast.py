#!/usr/bin/python3
"""The PyTorch reference trained under torch.autocast("cpu", dtype=...)
(bfloat16 by default, --autocast-dtype float16): the model's forward pass
runs in autocast, so its linear layers and matrix products take bfloat16
inputs, and the logits come back as float32 for the loss, as the PyTorch
documentation recommends. Takes the reference's own flags after its path:

    /usr/bin/python3 tools/bench/ref_autocast.py ../shared/reference/ref_transformer.py --steps 13 ...

and prints the reference's output, its JSON line marked "autocast":
"bfloat16"."""
import contextlib
import importlib.util
import io
import json
import sys

import torch

ref = sys.argv[1]
args = sys.argv[2:]
dtype = "bfloat16"
if "--autocast-dtype" in args:
    i = args.index("--autocast-dtype")
    dtype = args[i + 1]
    del args[i:i + 2]
sys.argv = [ref] + args  # the reference parses its flags on import
spec = importlib.util.spec_from_file_location("ref_transformer", ref)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)


class Autocast(mod.Transformer):
    def forward(self, *a, **k):
        with torch.autocast("cpu", dtype=getattr(torch, dtype)):
            out = super().forward(*a, **k)
        return out.float()


mod.Transformer = Autocast
out = io.StringIO()
with contextlib.redirect_stdout(out):
    mod.main()
lines = out.getvalue().splitlines()
result = json.loads(lines[-1])
result["autocast"] = dtype
for line in lines[:-1]:
    print(line)
print(json.dumps(result), flush=True)
