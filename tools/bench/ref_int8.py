#!/usr/bin/python3
"""The PyTorch reference with its nn.Linear layers quantised to int8 by
torch.quantization.quantize_dynamic (weights per tensor, activations per
batch at run time; the tied output projection, F.linear on the embedding,
stays float32). Takes the reference's own flags after its path:

    /usr/bin/python3 tools/bench/ref_int8.py ../shared/reference/ref_transformer.py --decode ...

and prints the reference's output, its JSON line marked "quantized":
"dynamic_int8"."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refwrap  # noqa: E402


def patch(mod):
    float_model = mod.Transformer

    def quantized(a):
        m = float_model(a)
        m.eval()
        return torch.quantization.quantize_dynamic(m, {torch.nn.Linear}, dtype=torch.qint8)

    mod.Transformer = quantized


if __name__ == "__main__":
    refwrap.run(sys.argv[1], sys.argv[2:], patch,
                lambda: {"quantized": "dynamic_int8", "quantized_engine": torch.backends.quantized.engine})
