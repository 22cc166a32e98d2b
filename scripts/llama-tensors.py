#!/usr/bin/env python3
"""Dumps every tensor llama.cpp computes for one prompt, to compare PruneLang's llama.cpp arithmetic
with it operation by operation.

Usage: .venv/bin/python scripts/llama-tensors.py MODEL.gguf OUT_DIR [--ids 1116,446,...] [--ctx 512]

Runs llama-cpp-python's low-level API with flash attention off, the default f16 KV cache and one
thread (the golden data's settings: ../shared/golden/README.md), one batch with logits for every
position, and registers an eval callback that sees each node of the graph after it is computed.
Writes OUT_DIR/NNNN NAME.npy for every contiguous F32 node (NNNN its order in the graph; the array
has ggml's shape reversed: [ne3, ne2, ne1, ne0]), OUT_DIR/nodes.json with every node's name, ggml
type, shape, strides, op and sources, and OUT_DIR/logits.npy. The default ids are the first eight
of the WikiText-2 test text, whose logits the golden data holds: the script checks they match.
"""
import argparse
import ctypes
import json
import os
import sys

import numpy as np
import llama_cpp as L


class Tensor(ctypes.Structure):
    """The head of ggml's struct ggml_tensor (ggml.h): enough to read a node's name, shape and data."""
    _fields_ = [("type", ctypes.c_int), ("buffer", ctypes.c_void_p), ("ne", ctypes.c_int64 * 4),
                ("nb", ctypes.c_size_t * 4), ("op", ctypes.c_int), ("op_params", ctypes.c_int32 * 16),
                ("flags", ctypes.c_int32), ("src", ctypes.c_void_p * 10), ("view_src", ctypes.c_void_p),
                ("view_offs", ctypes.c_size_t), ("data", ctypes.c_void_p), ("name", ctypes.c_char * 64)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--ids", default="1116,446,6356,389,9226,352,446,38028")
    ap.add_argument("--ctx", type=int, default=512)
    args = ap.parse_args()
    ids = [int(t) for t in args.ids.split(",")]
    os.makedirs(args.out, exist_ok=True)
    nodes = []

    def seen(pointer, ask, _):
        if ask:
            return True   # ask for every node
        t = ctypes.cast(pointer, ctypes.POINTER(Tensor)).contents
        name, ne, nb = t.name.decode(), list(t.ne), list(t.nb)
        sources = [ctypes.cast(s, ctypes.POINTER(Tensor)).contents.name.decode() for s in t.src if s]
        nodes.append({"name": name, "type": t.type, "ne": ne, "nb": nb, "op": t.op, "src": sources})
        contiguous = nb[0] == 4 and nb[1] == 4 * ne[0] and nb[2] == nb[1] * ne[1] and nb[3] == nb[2] * ne[2]
        if t.type == 0 and t.data and contiguous:   # GGML_TYPE_F32
            count = ne[0] * ne[1] * ne[2] * ne[3]
            values = np.ctypeslib.as_array(ctypes.cast(t.data, ctypes.POINTER(ctypes.c_float)), shape=(count,))
            np.save(os.path.join(args.out, f"{len(nodes):04d} {name}.npy"), values.reshape(ne[::-1]).copy())
        return True

    callback = L.ggml_backend_sched_eval_callback(seen)
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = L.llama_model_load_from_file(args.model.encode(), mp)
    if not model:
        sys.exit(f"llama-tensors: cannot load {args.model}")
    cp = L.llama_context_default_params()
    cp.n_ctx = cp.n_batch = cp.n_ubatch = args.ctx
    cp.n_threads = cp.n_threads_batch = 1
    cp.flash_attn_type = 0   # off
    cp.cb_eval = callback
    cp.cb_eval_user_data = None
    ctx = L.llama_init_from_model(model, cp)
    batch = L.llama_batch_init(len(ids), 0, 1)
    for i, token in enumerate(ids):
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, i, 1, 1
        batch.seq_id[i][0] = 0
    batch.n_tokens = len(ids)
    if L.llama_decode(ctx, batch) != 0:
        sys.exit("llama-tensors: llama_decode failed")
    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    logits = np.ctypeslib.as_array(L.llama_get_logits(ctx), shape=(len(ids), vocab)).copy()
    np.save(os.path.join(args.out, "logits.npy"), logits)
    with open(os.path.join(args.out, "nodes.json"), "w") as f:
        json.dump(nodes, f, indent=0)
    golden = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "golden", "smollm2-135m", "logits_first_window.f32")
    if args.ids == ap.get_default("ids") and os.path.exists(golden):
        same = np.array_equal(logits, np.fromfile(golden, dtype=np.float32).reshape(logits.shape))
        print(f"logits equal the golden data's: {same}")
    print(f"{len(nodes)} nodes; F32 ones written to {args.out}")
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
