#!/usr/bin/env python3
"""`bench/run inference`: SmolLM2-135M's forward pass, PruneLang against llama.cpp (llama-cpp-python)
on the same GGUF with the same thread count, in one run. Prompt: the first `--prompt` tokens of the
WikiText-2 test text as one batch from an empty cache; decode: `--decode` greedy single-token steps
after it; each best of `--repeats` in both engines (this machine's timings scatter by ±15%).
PruneLang runs in each of its arithmetics (float32: dequantised weights and BLAS; llamacpp:
llama.cpp's 8-bit activation blocks and integer dots over the stored blocks, f16 K/V; quantized:
only the stored blocks in memory, integer dots on them, Float32 elsewhere).
Prints one JSON object per measurement with ratio = our tokens/s ÷ llama.cpp's (> 1: PruneLang
faster), and whether both decoded the same greedy ids.

Unless `--no-kquant`, it also writes SmolLM2 as llama.cpp's Q4_K_M preset with the `prunelang`
executable (`save(m, p, type="q4_k_m")`: Q5_0, Q8_0, Q4_K and Q6_K matrices) and measures that file
the same way in the float32 and quantized arithmetics.

With `--pruned R` (the paper's Table 9b) it also writes, with the `prunelang` executable, two GGUFs
through the same export path: the dense model (ratio 0) and PruneNet at ratio R, their FFN matrices
as Q4_0 (the rest copied byte for byte), and measures both files in both engines; each line then
names its model, and `speedup` is the pruned model's tokens/s over the dense export's in the same
engine. Pick R so that (1 − R)·1536 is a multiple of 32 (0.3125 keeps 1056 rows): otherwise the
down projections' rows are not whole blocks and are written as F16, which is larger than Q4_0."""
import argparse, json, os, subprocess, sys, tempfile, time
import numpy as np
import llama_cpp
from llama_cpp import Llama


def last_logits(llm):
    """llama.cpp's logits of the last evaluated token (logits_all=False keeps only those)."""
    ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),))


def measure_llama_cpp(model, ids, args):
    """(prompt tok/s, decode tok/s, greedy ids) of llama.cpp on `model`."""
    llm = Llama(model_path=model, n_ctx=args.prompt + args.decode, n_batch=args.prompt, n_ubatch=args.prompt,
                n_threads=args.threads, n_threads_batch=args.threads, logits_all=False, verbose=False)
    best = float("inf")
    for _ in range(args.repeats):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        best = min(best, time.perf_counter() - t0)
    decode_s = float("inf")
    for _ in range(args.repeats):   # best of --repeats, the prompt rerun untimed before each
        llm.reset()
        llm.eval(ids)
        nxt = int(np.argmax(last_logits(llm)))
        generated = []
        t0 = time.perf_counter()
        for _ in range(args.decode):
            generated.append(nxt)
            llm.eval([nxt])
            nxt = int(np.argmax(last_logits(llm)))
        decode_s = min(decode_s, time.perf_counter() - t0)
    llm.close()
    return args.prompt / best, args.decode / decode_s, generated


def measure_prunelang(model, ids_file, arithmetic, args):
    """prunelang-bench's JSON (prompt_tok_s, decode_tok_s, generated) on `model`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    proc = subprocess.run([args.binary, "inference", model, ids_file, str(args.prompt), str(args.decode), str(args.repeats), arithmetic],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"prunelang-bench failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def export_models(args, directory):
    """Writes the dense export and the PruneNet model at --pruned; returns {label: path}."""
    dense, pruned = os.path.join(directory, "dense.gguf"), os.path.join(directory, "pruned.gguf")
    script = "\n".join([
        'm = load("smollm2-135m")',
        f'save(prune(m, "random-rows", ratio=0, seed=0), "{dense}", type="q4_0")',
        f'save(prune(m, "prunenet", ratio={args.pruned}, seed=0), "{pruned}", type="q4_0")',
    ])
    proc = subprocess.run([args.prunelang, "-e", script], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"prunelang failed to export the models: {proc.stderr.strip()[-2000:]}")
    return {"dense (Q4_0 FFN export)": dense, f"PruneNet {args.pruned:g} (Q4_0 FFN export)": pruned}


def export_kquant(args, directory):
    """Writes SmolLM2 as the Q4_K_M preset; returns its path."""
    path = os.path.join(directory, "q4_k_m.gguf")
    proc = subprocess.run([args.prunelang, "-e", f'save(load("smollm2-135m"), "{path}", type="q4_k_m")'], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"prunelang failed to write the Q4_K_M file: {proc.stderr.strip()[-2000:]}")
    return path


def report(label, model, ids, ids_file, args, dense_rates=None, arithmetics=("float32", "llamacpp", "quantized")):
    """Measures `model` in both engines and prints its lines; returns {engine: (prompt, decode)}."""
    ref_prompt, ref_decode, generated = measure_llama_cpp(model, ids, args)
    rates = {"llama.cpp": (ref_prompt, ref_decode)}
    for arithmetic in arithmetics:
        ours = measure_prunelang(model, ids_file, arithmetic, args)
        rates[arithmetic] = (ours["prompt_tok_s"], ours["decode_tok_s"])
        same = next((i for i, (a, b) in enumerate(zip(ours["generated"], generated)) if a != b), len(generated))
        for bench, key, ref, extra in [("prompt_512", "prompt_tok_s", ref_prompt, {}),
                                       ("decode", "decode_tok_s", ref_decode, dict(greedy_ids_equal_for=same, of=len(generated)))]:
            print(json.dumps(dict(bench=bench, model=label, arithmetic=arithmetic, threads=args.threads,
                                  ours_tok_s=round(ours[key], 1), ref="llama.cpp", ref_tok_s=round(ref, 1),
                                  ratio=round(ours[key] / ref, 3), **extra,
                                  weights_mb=round(ours.get("weights_resident_bytes", 0) / 1e6, 1),
                                  peak_rss_mb=round(ours.get("peak_rss_bytes", 0) / 1e6, 1))), flush=True)
        # Where our decode step goes (each linear timed alone on one row; the rest is attention,
        # norms, RoPE, SwiGLU and the glue between them).
        total, linears, head = (ours.get(k, 0) for k in ("decode_ms_per_token", "block_linears_ms_per_token", "head_ms_per_token"))
        print(json.dumps(dict(bench="decode_profile", model=label, arithmetic=arithmetic, ms_per_token=round(total, 2),
                              block_linears_ms=round(linears, 2), head_ms=round(head, 2), rest_ms=round(total - linears - head, 2),
                              llama_cpp_ms_per_token=round(1e3 / ref_decode, 2))), flush=True)
    if dense_rates:
        for engine, (prompt, decode) in rates.items():
            print(json.dumps(dict(bench="pruned_speedup", model=label, engine=engine,
                                  prompt_speedup=round(prompt / dense_rates[engine][0], 3),
                                  decode_speedup=round(decode / dense_rates[engine][1], 3))), flush=True)
    return rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True, help="prunelang-bench")
    ap.add_argument("--prunelang", help="the prunelang executable (needed for --pruned)")
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True, help="golden wikitext2_test_tokens.json")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OPENBLAS_NUM_THREADS", "2")))
    ap.add_argument("--no-kquant", action="store_true", help="skip the Q4_K_M export")
    ap.add_argument("--pruned", type=float, help="also compare the dense export with PruneNet at this FFN ratio")
    args = ap.parse_args()
    if args.pruned is not None and not (0 < args.pruned < 1 and args.prunelang):
        sys.exit("--pruned needs a ratio in (0, 1) and --prunelang")
    ids = json.load(open(args.tokens))["token_ids"][: args.prompt]
    with tempfile.TemporaryDirectory() as directory:
        ids_file = os.path.join(directory, "ids.json")
        with open(ids_file, "w") as f:
            json.dump(ids, f)
        report("original Q4_1", args.model, ids, ids_file, args)
        if not args.no_kquant and args.prunelang:
            report("Q4_K_M export", export_kquant(args, directory), ids, ids_file, args, arithmetics=("float32", "quantized"))
        if args.pruned is not None:
            (dense_label, dense), (pruned_label, pruned) = export_models(args, directory).items()
            dense_rates = report(dense_label, dense, ids, ids_file, args)
            report(pruned_label, pruned, ids, ids_file, args, dense_rates)


if __name__ == "__main__":
    main()
