#!/usr/bin/python3
"""Execute Jupyter notebooks headlessly; exit 1 on any cell error or missing output.

Usage: /usr/bin/python3 tools/notebooks/run.py [--timeout S] [--out DIR]
           [--expect-image] [--expect REGEX]... NB.ipynb...

A cell fails on a kernel error reply (a compile error) and also on GoNB's way
of reporting a runtime panic or os.Exit(1): text on stderr ending in
"exit status N" or starting with "panic:" (the kernel itself answers "ok").
--expect-image requires at least one PNG among the outputs; each --expect
requires a text output matching REGEX. Executed copies go to --out
(default: a temporary directory), never over the source notebook.
"""
import argparse, os, re, sys, tempfile

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

BAD = re.compile(r"^(exit status \d+|panic: .*)$", re.M)


def texts(nb):
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                yield i, out.get("name"), out.get("text", "")
            elif "data" in out and "text/plain" in out["data"]:
                yield i, "data", out["data"]["text/plain"]


def has_image(nb):
    return any("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


def run(path, args):
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    client = NotebookClient(nb, timeout=args.timeout, kernel_name=kernel,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    problems = []
    # The kernel inherits stderr and logs every cell there (GoNB's glog
    # lines); keep that in a file and show its end only on failure.
    log = tempfile.NamedTemporaryFile(prefix="kernel-", suffix=".log", delete=False)
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        client.execute()
    except CellExecutionError as e:
        problems.append("cell error:\n" + str(e)[-3000:])
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    for i, name, text in texts(nb):
        if name == "stderr" and BAD.search(text):
            problems.append(f"cell {i} failed:\n{text[-3000:]}")
    if args.expect_image and not has_image(nb):
        problems.append("no cell displayed an image")
    for pattern in args.expect:
        if not any(re.search(pattern, t) for _, _, t in texts(nb)):
            problems.append(f"no output matches {pattern!r}")
    out = os.path.join(args.out, os.path.basename(path))
    nbformat.write(nb, out)
    for p in problems:
        print(f"FAIL {path}: {p}", file=sys.stderr)
    if problems:
        with open(log.name, errors="replace") as f:
            tail = f.read()[-4000:]
        print(f"kernel log ({log.name}), last lines:\n{tail}", file=sys.stderr)
    if not problems:
        images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        print(f"OK   {path}: {len(nb.cells)} cells, {images} images; executed copy {out}")
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    ap.add_argument("--out", default=None, help="directory for executed copies")
    ap.add_argument("--expect-image", action="store_true")
    ap.add_argument("--expect", action="append", default=[], metavar="REGEX")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    args.out = args.out or tempfile.mkdtemp(prefix="notebooks-")
    os.makedirs(args.out, exist_ok=True)
    ok = all([run(p, args) for p in args.notebooks])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
