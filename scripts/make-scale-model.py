#!/usr/bin/env python3
"""Writes a GGUF with a real model's shapes and metadata and random weights whose spectra look like
a trained model's (issue 26): the test model for time and memory at 7B scale. Its numbers mean
nothing; its time and memory mean everything.

    .venv/bin/python scripts/make-scale-model.py --shape 7b|1b|small|tiny --out PATH [--seed N] [--embedding q4_0|f16]

Shapes (arch llama, every key llama.cpp reads for it):
  7b   LLaMA-2-7B: 32 blocks, d 4096, FFN 11008, 32 heads, 32 KV heads, vocab 32000 (~3.8 GB)
  1b   TinyLlama-1.1B: 22 blocks, d 2048, FFN 5632, 32 heads, 4 KV heads, vocab 32000 (~0.6 GB)
  small 8 blocks, d 1024, FFN 2816, 16 heads, 4 KV heads, vocab 32000 (~90 MB), for tests
  tiny 2 blocks, d 256, FFN 704, 4 heads, 2 KV heads, vocab 32000 (~11 MB), for tests
Linears are Q4_0, norms F32, the embedding and output head Q4_0 (or F16 with --embedding f16).

Weights: each matrix is W = U·diag(s)·Vᵀ (rank 8, a spike of a few times the bulk's largest
singular value) + D_r·G·D_c, where G is Gaussian and the row and column scales D_r, D_c are drawn
from a Pareto law, so the empirical spectral density has a heavy (power-law) tail rather than the
flat Marchenko-Pastur bulk of i.i.d. noise. Scaled by 1/sqrt(cols) so a forward pass stays finite.

Tokenizer: SmolLM2's GPT-2 byte-level BPE (pre-tokenizer "smollm") from models/smollm2-135m,
truncated to its first 32000 tokens, with the merges whose parts and result all survive. Both
llama.cpp and PruneLang load it.

Memory: one tensor is generated, quantised and written at a time, in chunks of rows, so the
script stays under ~300 MB whatever the shape. The file appears atomically (written to PATH.part).
"""
import argparse
import glob
import os
import sys
import time

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SHAPES = {
    "7b": dict(blocks=32, d=4096, ffn=11008, heads=32, kv=32, vocab=32000, ctx=4096,
               name="synthetic LLaMA-2-7B shapes (random weights, heavy-tailed spectra)"),
    "1b": dict(blocks=22, d=2048, ffn=5632, heads=32, kv=4, vocab=32000, ctx=2048,
               name="synthetic TinyLlama-1.1B shapes (random weights, heavy-tailed spectra)"),
    "small": dict(blocks=8, d=1024, ffn=2816, heads=16, kv=4, vocab=32000, ctx=1024,
                  name="synthetic small llama (random weights, heavy-tailed spectra)"),
    "tiny": dict(blocks=2, d=256, ffn=704, heads=4, kv=2, vocab=32000, ctx=512,
                 name="synthetic tiny llama (random weights, heavy-tailed spectra)"),
}
VOCAB_SOURCE = "smollm2-135m"
CHUNK_ELEMENTS = 1 << 23  # rows generated at a time: ~8M floats (32 MB) per chunk


def tensor_list(s, embedding_type):
    """(name, (rows, cols) or (n,), type) in the order llama.cpp's converters write them."""
    d, f, kvd = s["d"], s["ffn"], s["d"] // s["heads"] * s["kv"]
    yield "token_embd.weight", (s["vocab"], d), embedding_type
    for b in range(s["blocks"]):
        yield f"blk.{b}.attn_norm.weight", (d,), Q.F32
        yield f"blk.{b}.attn_q.weight", (d, d), Q.Q4_0
        yield f"blk.{b}.attn_k.weight", (kvd, d), Q.Q4_0
        yield f"blk.{b}.attn_v.weight", (kvd, d), Q.Q4_0
        yield f"blk.{b}.attn_output.weight", (d, d), Q.Q4_0
        yield f"blk.{b}.ffn_norm.weight", (d,), Q.F32
        yield f"blk.{b}.ffn_gate.weight", (f, d), Q.Q4_0
        yield f"blk.{b}.ffn_up.weight", (f, d), Q.Q4_0
        yield f"blk.{b}.ffn_down.weight", (d, f), Q.Q4_0
    yield "output_norm.weight", (d,), Q.F32
    yield "output.weight", (s["vocab"], d), embedding_type


def byte_size(shape, qtype):
    if len(shape) == 1:
        return shape[0] * 4
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    return shape[0] * shape[1] // block * size


def pareto_scales(n, rng, alpha=2.5):
    """Positive scales with a power-law tail (Pareto, index alpha), mean about 1."""
    x = (rng.pareto(alpha, n) + 1.0).astype(np.float32)
    return x / np.sqrt(np.mean(x * x))


def matrix_chunks(shape, rng, rank=8):
    """Yields the matrix in row chunks (float32): low-rank spike plus heavy-tailed noise."""
    rows, cols = shape
    scale = 1.0 / np.sqrt(cols)
    dr, dc = pareto_scales(rows, rng), pareto_scales(cols, rng)
    # The bulk's largest singular value is about (sqrt(rows) + sqrt(cols)) * scale times the scales'
    # spread; put the spike's singular values a few times above it, decreasing geometrically.
    bulk = (np.sqrt(rows) + np.sqrt(cols)) * scale
    s = bulk * 4.0 * 0.7 ** np.arange(rank)
    u = rng.standard_normal((rows, rank)).astype(np.float32) / np.sqrt(rows)
    v = (rng.standard_normal((rank, cols)).astype(np.float32) / np.sqrt(cols)) * s[:, None].astype(np.float32)
    step = max(1, CHUNK_ELEMENTS // cols)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        g = rng.standard_normal((r1 - r0, cols), dtype=np.float32)
        g *= dr[r0:r1, None] * scale
        g *= dc[None, :]
        g += u[r0:r1] @ v
        yield g


def tensor_bytes(shape, qtype, rng):
    """The tensor's stored bytes, chunk by chunk."""
    if len(shape) == 1:  # RMS-norm weights: around 1, a little spread
        yield (1.0 + 0.1 * rng.standard_normal(shape[0])).astype(np.float32).tobytes()
        return
    for chunk in matrix_chunks(shape, rng):
        if qtype == Q.F16:
            yield chunk.astype(np.float16).tobytes()
        else:
            yield gguf.quants.quantize(chunk, qtype).tobytes()


def tokenizer(vocab):
    """SmolLM2's tokens, types and merges cut to `vocab` tokens."""
    models = os.environ.get("PRUNELANG_MODELS") or os.path.join(REPO, "models")
    paths = glob.glob(os.path.join(models, VOCAB_SOURCE, "*.gguf"))
    if not paths:
        sys.exit(f"no {VOCAB_SOURCE} GGUF under {models}: run scripts/fetch-models first")
    r = gguf.GGUFReader(paths[0])

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens = strings("tokenizer.ggml.tokens")[:vocab]
    f = r.fields["tokenizer.ggml.token_type"]
    types = [int(f.parts[i][0]) for i in f.data][:vocab]
    kept = set(tokens)
    merges = []
    for m in strings("tokenizer.ggml.merges"):
        a, _, b = m.partition(" ")
        if a in kept and b in kept and (a + b) in kept:
            merges.append(m)
    ids = {k: int(r.fields[k].parts[-1][0]) for k in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                                    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id")}
    return tokens, types, merges, ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="7b")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embedding", choices=["q4_0", "f16"], default="q4_0")
    args = ap.parse_args()
    s = SHAPES[args.shape]
    emb = Q.Q4_0 if args.embedding == "q4_0" else Q.F16
    tensors = list(tensor_list(s, emb))
    total = sum(byte_size(shape, t) for _, shape, t in tensors)
    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    if free < total * 1.05 + (64 << 20):
        sys.exit(f"not enough disk in {folder}: the {args.shape} model needs {total / 1e9:.2f} GB, {free / 1e9:.2f} GB free")

    tokens, types, merges, ids = tokenizer(s["vocab"])
    part = args.out + ".part"
    w = gguf.GGUFWriter(part, "llama")
    w.add_name(s["name"])
    w.add_block_count(s["blocks"])
    w.add_context_length(s["ctx"])
    w.add_embedding_length(s["d"])
    w.add_feed_forward_length(s["ffn"])
    w.add_head_count(s["heads"])
    w.add_head_count_kv(s["kv"])
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(s["d"] // s["heads"])
    w.add_vocab_size(s["vocab"])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(ids["tokenizer.ggml.bos_token_id"])
    w.add_eos_token_id(ids["tokenizer.ggml.eos_token_id"])
    w.add_unk_token_id(ids["tokenizer.ggml.unknown_token_id"])
    w.add_pad_token_id(ids["tokenizer.ggml.padding_token_id"])
    w.add_add_bos_token(False)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, shape, qtype in tensors:
        if len(shape) == 1:
            w.add_tensor_info(name, shape, np.float32, shape[0] * 4, raw_dtype=qtype)
        elif qtype == Q.F16:
            w.add_tensor_info(name, shape, np.float16, byte_size(shape, qtype), raw_dtype=qtype)
        else:  # quantised tensors are declared by their byte shape
            byte_shape = (shape[0], byte_size(shape, qtype) // shape[0])
            w.add_tensor_info(name, byte_shape, np.uint8, byte_size(shape, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(args.seed)
    start = time.time()
    for i, (name, shape, qtype) in enumerate(tensors):
        n = byte_size(shape, qtype)
        # write_tensor_data takes one array per tensor; hand it the bytes as they are produced.
        buf = np.empty(n, dtype=np.uint8)
        pos = 0
        for piece in tensor_bytes(shape, qtype, rng):
            buf[pos:pos + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
            pos += len(piece)
        assert pos == n, (name, pos, n)
        w.write_tensor_data(buf)
        del buf
        if sys.stderr.isatty() or (i + 1) % 9 == 0:
            print(f"\r{i + 1}/{len(tensors)} tensors, {time.time() - start:.0f} s", end="", file=sys.stderr, flush=True)
    w.close()
    print(file=sys.stderr)
    os.replace(part, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
