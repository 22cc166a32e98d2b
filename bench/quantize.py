#!/usr/bin/env python3
"""`bench/run quantize`: quantising SmolLM2-135M to Q4_K_M, PruneLang against llama.cpp's own
quantiser, one run each on the same F32 input, same threads. The input is an F32 GGUF that llama.cpp
writes from the Q4_1 file (not timed). Timed, each from a cold process start to the file on disk:
llama.cpp's `llama_model_quantize` (llama-cpp-python, nthread = --threads) in a fresh Python, and
`prunelang -e 'save(load(f32), out, type="q4_k_m")'` (OMP/Dispatch on --threads cores via taskset).
Prints {"bench", "ours_s", "ref": "llama.cpp", "ref_s", "ratio", "threads", "same_bytes"} (ratio > 1:
PruneLang faster); same_bytes: every tensor of the two files is byte-identical."""
import argparse, json, os, subprocess, sys, tempfile, time

import numpy as np
import gguf

QUANTIZE = """
import ctypes, sys, llama_cpp
llama_cpp.llama_backend_init()
p = llama_cpp.llama_model_quantize_default_params()
p.ftype, p.allow_requantize, p.nthread = int(sys.argv[3]), bool(int(sys.argv[4])), int(sys.argv[5])
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
"""


def llama_quantize(src, dst, ftype, requantize, threads):
    subprocess.run([sys.executable, "-c", QUANTIZE, src, dst, str(ftype), str(int(requantize)), str(threads)],
                   check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True, help="the prunelang executable")
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--preset", default="q4_k_m")
    args = ap.parse_args()
    ftype = {"q4_k_m": 15, "q5_k_m": 17, "q3_k_m": 12, "q2_k": 10, "q6_k": 18, "q8_0": 7}[args.preset]
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:args.threads])
    with tempfile.TemporaryDirectory() as work:
        f32, ours, theirs = (os.path.join(work, n) for n in ("f32.gguf", "ours.gguf", "llama.gguf"))
        llama_quantize(args.model, f32, 0, True, args.threads)
        subprocess.run(["cat", f32], check=True, stdout=subprocess.DEVNULL)   # both start from a warm page cache
        t0 = time.perf_counter()
        llama_quantize(f32, theirs, ftype, False, args.threads)
        ref_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = subprocess.run(["taskset", "-c", cpus, args.binary, "-e", f'save(load("{f32}"), "{ours}", type="{args.preset}")'],
                           capture_output=True, text=True)
        ours_s = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"prunelang failed: {r.stderr.strip()}")
        a = {t.name: t for t in gguf.GGUFReader(ours).tensors}
        b = {t.name: t for t in gguf.GGUFReader(theirs).tensors}
        same = set(a) == set(b) and all(a[n].tensor_type == b[n].tensor_type and
                                        np.array_equal(np.asarray(a[n].data).view(np.uint8), np.asarray(b[n].data).view(np.uint8)) for n in b)
        print(json.dumps(dict(bench=f"quantize {args.preset}", ours_s=round(ours_s, 3), ref="llama.cpp", ref_s=round(ref_s, 3),
                              ratio=round(ref_s / ours_s, 3), threads=args.threads, same_bytes=same,
                              bytes=os.path.getsize(ours))))


if __name__ == "__main__":
    main()
