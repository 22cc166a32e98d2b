#!/usr/bin/env python3
"""`bench/run zeroshot`: zero-shot multiple-choice scoring of SmolLM2-135M on the first `--limit`
examples of each task, PruneLang against llama.cpp (llama-cpp-python) in one run, same GGUF, same
thread count. llama.cpp scores each (context, continuation) pair as lm-evaluation-harness feeds a
model: (ctx + cont)[:-1] from an empty cache, logits for every position, a Float64 log-softmax —
the procedure of the project's golden data (../shared/golden/make_golden.py, whose functions this
imports). PruneLang runs `ZeroShot.evaluate` one example at a time (`--batches 1`) and eight
examples per pair of packed passes (the default of the `zeroshot` builtin). Prints one JSON object
per task and engine with seconds, examples per second, acc, and for PruneLang ratio = llama.cpp's
seconds ÷ ours (> 1: PruneLang faster) and how many acc predictions equal llama.cpp's (PruneLang's
default pass is Float32, llama.cpp rounds activations to 8 bits: near ties may differ)."""
import argparse, json, os, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
golden_dir = os.environ.get("PRUNELANG_GOLDEN_SCRIPT_DIR", os.path.join(here, "..", "..", "shared", "golden"))
sys.path.insert(0, golden_dir)
import make_golden as golden  # noqa: E402  (load_task, encode_pair, loglikelihood, make_llama)
import numpy as np  # noqa: E402


def llama_cpp_scores(llm, docs, n_ctx=512):
    t0 = time.perf_counter()
    preds = []
    for d in docs:
        lls = []
        for c, k in zip(d["contexts"], d["continuations"]):
            ci, ki, _, _ = golden.encode_pair(llm, c, k)
            ll, _, _ = golden.loglikelihood(llm, ci, ki, n_ctx)
            lls.append(ll)
        preds.append(int(np.argmax(lls)))
    return time.perf_counter() - t0, preds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tasks", nargs="*", default=["piqa", "hellaswag", "arc_easy", "arc_challenge", "winogrande"])
    ap.add_argument("--batches", nargs="*", type=int, default=[1, 8])
    args = ap.parse_args()
    llm = golden.make_llama(args.model, 512, args.threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    totals = {"llama.cpp": 0.0}
    for task in args.tasks:
        docs = golden.load_task(task, args.data, args.limit)
        ref_s, ref_pred = llama_cpp_scores(llm, docs)
        acc = sum(p == d["gold"] for p, d in zip(ref_pred, docs)) / len(docs)
        print(json.dumps({"bench": f"zeroshot_{task}", "engine": "llama.cpp", "n": len(docs), "seconds": round(ref_s, 2),
                          "examples_per_s": round(len(docs) / ref_s, 2), "acc": acc}), flush=True)
        totals["llama.cpp"] += ref_s
        out = subprocess.run([args.binary, "zeroshot", args.model, task, str(args.limit)] + [str(b) for b in args.batches],
                             check=True, capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            r = json.loads(line)
            same = sum(a == b for a, b in zip(r["pred"], ref_pred))
            key = f"PruneLang batch {r['batch']}"
            totals[key] = totals.get(key, 0.0) + r["ours_s"]
            print(json.dumps({"bench": f"zeroshot_{task}", "engine": key, "n": r["n"], "seconds": round(r["ours_s"], 2),
                              "examples_per_s": round(r["n"] / r["ours_s"], 2), "acc": r["acc"],
                              "ratio": round(ref_s / r["ours_s"], 2), "same_pred_as_llama_cpp": same,
                              "blas_core": r["blas_core"]}), flush=True)
    for engine, seconds in totals.items():
        line = {"bench": "zeroshot_all_tasks", "engine": engine, "examples": args.limit * len(args.tasks), "seconds": round(seconds, 2)}
        if engine != "llama.cpp":
            line["ratio"] = round(totals["llama.cpp"] / seconds, 2)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
