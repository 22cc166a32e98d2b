"""Writes SmolLM2's 30 FFN gate matrices quantised to 4 bits (symmetric, blocks of 32, the
teaching round-to-nearest form of Sources/Numerics/Coding/Quantization.swift), one code per byte
(0..14: the code plus 7), for bench/coding/run. Usage: extract_codes.py MODEL.gguf OUT.bin"""
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main():
    reader = GGUFReader(sys.argv[1])
    out = []
    for t in reader.tensors:
        if not t.name.endswith("ffn_gate.weight"):
            continue
        w = dequantize(t.data, t.tensor_type).reshape(-1, 32).astype(np.float64)
        s = (np.abs(w).max(axis=1, keepdims=True) / 7).astype(np.float32).astype(np.float64)
        q = np.where(s == 0, 0, np.clip(np.round(w / np.where(s == 0, 1, s)), -7, 7))
        out.append((q + 7).astype(np.uint8).ravel())
    codes = np.concatenate(out)
    codes.tofile(sys.argv[2])
    print(f"{len(out)} gate matrices, {codes.size} codes")


if __name__ == "__main__":
    main()
