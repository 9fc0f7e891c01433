"""Runs the PyTorch reference (../shared/reference/ref_transformer.py) with
a change applied to it, for the runners beside this file: load the
reference from its path with its own flags, let patch(module) change it,
run its main, and print its output with its JSON line extended by extra."""
import contextlib
import importlib.util
import io
import json
import sys


def run(ref, flags, patch, extra):
    sys.argv = [ref] + flags  # the reference parses its flags on import
    spec = importlib.util.spec_from_file_location("ref_transformer", ref)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    patch(mod)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        mod.main()
    lines = out.getvalue().splitlines()
    result = json.loads(lines[-1])
    result.update(extra() if callable(extra) else extra)
    for line in lines[:-1]:
        print(line)
    print(json.dumps(result), flush=True)
