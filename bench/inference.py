#!/usr/bin/env python3
"""`bench/run inference`: SmolLM2-135M's forward pass, PruneLang against llama.cpp (llama-cpp-python)
on the same GGUF with the same thread count, in one run. Prompt: the first `--prompt` tokens of the
WikiText-2 test text as one batch from an empty cache (best of `--repeats`); decode: `--decode`
greedy single-token steps after it. PruneLang runs twice, in each of its arithmetics (float32:
dequantised weights and BLAS; llamacpp: llama.cpp's 8-bit activation blocks and integer dots over
the stored blocks, f16 K/V). Prints one JSON object per measurement with ratio = our tokens/s
÷ llama.cpp's (> 1: PruneLang faster), and whether both decoded the same greedy ids."""
import argparse, json, os, subprocess, sys, tempfile, time
import numpy as np
import llama_cpp
from llama_cpp import Llama


def last_logits(llm):
    """llama.cpp's logits of the last evaluated token (logits_all=False keeps only those)."""
    ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True, help="golden wikitext2_test_tokens.json")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OPENBLAS_NUM_THREADS", "2")))
    args = ap.parse_args()
    ids = json.load(open(args.tokens))["token_ids"][: args.prompt]

    llm = Llama(model_path=args.model, n_ctx=args.prompt + args.decode, n_batch=args.prompt, n_ubatch=args.prompt,
                n_threads=args.threads, n_threads_batch=args.threads, logits_all=False, verbose=False)
    best = float("inf")
    for _ in range(args.repeats):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        best = min(best, time.perf_counter() - t0)
    llm.reset()
    llm.eval(ids)
    nxt = int(np.argmax(last_logits(llm)))
    generated = []
    t0 = time.perf_counter()
    for _ in range(args.decode):
        generated.append(nxt)
        llm.eval([nxt])
        nxt = int(np.argmax(last_logits(llm)))
    decode_s = time.perf_counter() - t0

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ids, f)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    ref_prompt = args.prompt / best
    ref_decode = args.decode / decode_s
    for arithmetic in ["float32", "llamacpp"]:
        proc = subprocess.run([args.binary, "inference", args.model, f.name, str(args.prompt), str(args.decode), str(args.repeats), arithmetic],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit(f"prunelang-bench failed: {proc.stderr.strip()}")
        ours = json.loads(proc.stdout)
        same = next((i for i, (a, b) in enumerate(zip(ours["generated"], generated)) if a != b), len(generated))
        print(json.dumps(dict(bench="prompt_512", arithmetic=arithmetic, threads=args.threads, ours_tok_s=round(ours["prompt_tok_s"], 1),
                              ref="llama.cpp", ref_tok_s=round(ref_prompt, 1), ratio=round(ours["prompt_tok_s"] / ref_prompt, 3))))
        print(json.dumps(dict(bench="decode", arithmetic=arithmetic, threads=args.threads, ours_tok_s=round(ours["decode_tok_s"], 1),
                              ref="llama.cpp", ref_tok_s=round(ref_decode, 1), ratio=round(ours["decode_tok_s"] / ref_decode, 3),
                              greedy_ids_equal_for=same, of=len(generated))))
    os.unlink(f.name)

if __name__ == "__main__":
    main()
