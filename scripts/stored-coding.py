#!/usr/bin/env python3
"""Writes docs/results/stored-coding.md: llama.cpp-format files of SmolLM2-135M entropy-coded as
stored (`compressed_size(m, stored=true)`: each field of each block its own rANS stream) against
zstd -19 and xz -9 on the same tensor bytes (the 2-D weight matrices, as compressed_size counts
them; the compressors run on those tensors' bytes concatenated).

Files: the Q4_1 download; llama.cpp's own Q4_0 (pure) and Q4_K_M of its F32 dequantisation
(llama-cpp-python's llama_model_quantize); and the download magnitude-pruned to 50% in every
linear and saved by PruneLang as Q4_0 (byte-exact with llama.cpp's Q4_0 quantiser).

    .venv/bin/python scripts/stored-coding.py [--binary .build/release/prunelang] [--out docs/results/stored-coding.md]
"""
import argparse, ctypes, json, os, subprocess, sys, tempfile

import gguf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(REPO, "models", "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf")


def quantize(src, dst, ftype, pure=False, requantize=False):
    import llama_cpp
    llama_cpp.llama_backend_init()
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype, p.pure, p.allow_requantize, p.nthread = ftype, pure, requantize, 2
    assert llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p)) == 0


def matrices(path):
    """The bytes of the file's 2-D weight tensors with more than one row, the weights, and their types."""
    r = gguf.GGUFReader(path)
    data, weights, types = bytearray(), 0, set()
    for t in r.tensors:
        shape = [int(d) for d in t.shape]
        if len(shape) >= 2 and shape[1] > 1:
            data += t.data.tobytes()
            weights += shape[0] * shape[1]
            types.add(t.tensor_type.name)
    return bytes(data), weights, sorted(types)


def size(tool, args, data):
    return len(subprocess.run([tool] + args + ["-c"], input=data, capture_output=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "prunelang"))
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "results", "stored-coding.md"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stored-coding-")
    f32, q40, q4km, pruned = (os.path.join(work, n) for n in ("f32.gguf", "q4_0.gguf", "q4_k_m.gguf", "magnitude50-q4_0.gguf"))
    quantize(MODEL, f32, 0, requantize=True)
    quantize(f32, q40, 2, pure=True)
    quantize(f32, q4km, 15)
    subprocess.run([args.binary, "-e", f'p = prune(load("{MODEL}"), "magnitude", ratio=0.5)\nsave(p, "{pruned}", type="q4_0")'],
                   check=True, capture_output=True, text=True)
    rows = []
    for label, path in [("Q4_1 (the download)", MODEL), ("llama.cpp Q4_0 (pure)", q40), ("llama.cpp Q4_K_M", q4km),
                        ("magnitude 50% → PruneLang Q4_0", pruned)]:
        r = subprocess.run([args.binary, "-e", f'c = compressed_size(load("{path}"), stored=true)\n'
                            'print(c.weights)\nprint(c.stored_bytes)\nprint(c.coded_bytes)'], capture_output=True, text=True, check=True)
        w, stored, coded = (int(float(v)) for v in r.stdout.split()[-3:])
        data, weights, types = matrices(path)
        assert weights == w and len(data) == stored, (label, weights, w, len(data), stored)
        z, x = size("zstd", ["-19", "-q", "-T1"], data), size("xz", ["-9", "-T1"], data)
        bits = lambda b: b * 8 / w
        rows.append((label, ", ".join(types), stored, coded, z, x, bits))
        print(label, stored, coded, z, x, file=sys.stderr)
    lines = ["# Entropy coding of llama.cpp-format blocks as stored (issue 23)", "",
             "Written by `scripts/stored-coding.py`. SmolLM2-135M's weight matrices (every 2-D weight with more than one row; norms",
             "left out), in each file's own blocks. **ours**: `compressed_size(m, stored=true)`: every field of every block type",
             "(fp16 scales by byte plane, packed 4-bit codes as nibbles, 8-bit codes and packed sub-block scales as bytes) one",
             "stream over the tensor, coded with its own static rANS code (stream plus frequency table) or kept raw where that is",
             "smaller; lossless (tests decode it back to the same bytes). **zstd -19** and **xz -9** (one thread) on the same",
             "tensors' bytes, concatenated. Bits per weight: bytes × 8 / the file's weights.", "",
             "| file | types | stored MB | bits/w | ours MB | bits/w | zstd -19 MB | bits/w | xz -9 MB | bits/w |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for label, types, stored, coded, z, x, bits in rows:
        lines.append(f"| {label} | {types} | {stored / 1e6:.2f} | {bits(stored):.3f} | {coded / 1e6:.2f} | {bits(coded):.3f} | "
                     f"{z / 1e6:.2f} | {bits(z):.3f} | {x / 1e6:.2f} | {bits(x):.3f} |")
    open(args.out, "w").write("\n".join(lines) + "\n")
    print(json.dumps([r[:6] for r in rows]))


if __name__ == "__main__":
    main()
