#!/usr/bin/env python3
"""`bench/run weights`: opening SmolLM2-135M's GGUF and dequantising every tensor, PruneLang against
the `gguf` package (GGUFReader + gguf.quants.dequantize), on the same file, best of `--repeats`.
Prints {"bench", "ours_s", "ref": "gguf", "ref_s", "ratio"} (ratio > 1: PruneLang faster) and checks
that both produced the same number of tensors and values."""
import argparse, json, subprocess, sys, time
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    def reference():
        reader = GGUFReader(args.model)
        n_tensors = n_values = 0
        for t in reader.tensors:
            n_values += dequantize(t.data, t.tensor_type).size
            n_tensors += 1
        return n_tensors, n_values

    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        counts = reference()
        best = min(best, time.perf_counter() - t0)
    proc = subprocess.run([args.binary, "weights", args.model, str(args.repeats)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"prunelang-bench failed: {proc.stderr.strip()}")
    ours = json.loads(proc.stdout)
    agrees = (ours["tensors"], ours["values"]) == counts
    print(json.dumps(dict(bench=ours["bench"], ours_s=round(ours["ours_s"], 6), ref="gguf", ref_s=round(best, 6),
                          ratio=round(best / ours["ours_s"], 3), tensors=counts[0], values=counts[1], agrees=agrees)))
    if not agrees:
        sys.exit(f"counts differ: ours {ours['tensors']}/{ours['values']}, gguf {counts}")


if __name__ == "__main__":
    main()
