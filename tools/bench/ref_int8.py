#!/usr/bin/python3
"""The PyTorch reference with its nn.Linear layers quantised to int8 by
torch.quantization.quantize_dynamic (weights per tensor, activations per
batch at run time; the tied output projection, F.linear on the embedding,
stays float32). Takes the reference's own flags after its path:

    /usr/bin/python3 tools/bench/ref_int8.py ../shared/reference/ref_transformer.py --decode ...

and prints the reference's output, its JSON line marked "quantized":
"dynamic_int8"."""
import contextlib
import importlib.util
import io
import json
import sys

import torch

ref = sys.argv[1]
sys.argv = [ref] + sys.argv[2:]  # the reference parses its flags on import
spec = importlib.util.spec_from_file_location("ref_transformer", ref)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)

float_model = mod.Transformer


def quantized(a):
    m = float_model(a)
    m.eval()
    return torch.quantization.quantize_dynamic(m, {torch.nn.Linear}, dtype=torch.qint8)


mod.Transformer = quantized
out = io.StringIO()
with contextlib.redirect_stdout(out):
    mod.main()
lines = out.getvalue().splitlines()
result = json.loads(lines[-1])
result["quantized"] = "dynamic_int8"
result["quantized_engine"] = torch.backends.quantized.engine
for line in lines[:-1]:
    print(line)
print(json.dumps(result), flush=True)
