#!/usr/bin/env python3
"""`bench/run spectra`: WeightWatcher's whole-model analysis of SmolLM2-135M (the 210 linear
matrices: q, k, v, o, gate, up, down of 30 blocks), PruneLang's `analyze(m)` against
`weightwatcher`'s `analyze()` on the same matrices with the same threads, in one run.

The reference side dequantises the GGUF with the `gguf` package into torch `nn.Linear` modules
(outside the timing) and times `WeightWatcher(model=net).analyze(min_evals=50, mp_fit=True)` (and
with randomize=True). Our side times `prunelang run` of a script that loads the model and runs
`analyze(m)` (dequantisation included), minus the time of the same script without the analysis
(process start and the lazy load). Both sides use --threads BLAS threads (OPENBLAS_NUM_THREADS,
torch.set_num_threads). Also reports the agreement: the largest |Δα| / α over the 210 matrices.
ratio = weightwatcher's time per matrix / ours (> 1: PruneLang faster). One run per configuration (WeightWatcher
takes minutes). Needs a Python with torch, weightwatcher and gguf ($PRUNELANG_TORCH_PYTHON, or
scripts/ensure-torch's venv with `pip install weightwatcher`)."""
import argparse, json, logging, os, subprocess, sys, tempfile, time, warnings

ROLES = [("attn_q", "q"), ("attn_k", "k"), ("attn_v", "v"), ("attn_output", "o"),
         ("ffn_gate", "gate"), ("ffn_up", "up"), ("ffn_down", "down")]


def reference(model_path, randomize, blocks):
    import numpy as np
    import torch
    import gguf
    import weightwatcher as ww
    r = gguf.GGUFReader(model_path)
    by_name = {t.name: t for t in r.tensors}
    layers, names = [], []
    for b in range(blocks):
        for gguf_role, short in ROLES:
            t = by_name[f"blk.{b}.{gguf_role}.weight"]
            w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape([int(d) for d in reversed(t.shape)])
            lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
            layers.append(lin)
            names.append((b, short))
    net = torch.nn.Sequential(*layers)
    np.random.seed(0)
    t0 = time.perf_counter()
    details = ww.WeightWatcher(model=net).analyze(min_evals=50, mp_fit=True, randomize=randomize)
    elapsed = time.perf_counter() - t0
    assert len(details) == len(names), (len(details), len(names))
    return elapsed, {names[i]: float(details["alpha"].iloc[i]) for i in range(len(names))}


def ours(binary, model_path, randomize, env):
    with tempfile.TemporaryDirectory() as d:
        base = os.path.join(d, "load.prune")
        full = os.path.join(d, "analyze.prune")
        with open(base, "w") as f:
            f.write(f'm = load("{model_path}")\nprint(params(m))\n')
        with open(full, "w") as f:
            f.write(f'm = load("{model_path}")\nprint(params(m))\n'
                    f'a = analyze(m, randomize={"true" if randomize else "false"})\n'
                    'for r in a.records { print(r.block, r.role, r.alpha) }\n')
        t0 = time.perf_counter()
        subprocess.run([binary, "run", base], check=True, capture_output=True, env=env)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = subprocess.run([binary, "run", full], check=True, capture_output=True, text=True, env=env)
        t_full = time.perf_counter() - t0
    alphas = {}
    for line in out.stdout.splitlines()[1:]:
        b, role, alpha = line.split()
        alphas[(int(b), role)] = float(alpha)
    return t_full - t_load, alphas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True, help="the prunelang executable")
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--randomize", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--ref-blocks", nargs="+", type=int, default=[30, 10],
                    help="blocks weightwatcher analyses, per randomize setting (it takes minutes: 10 blocks = 70 matrices "
                         "with randomize); ours always does all 30, and the ratio is per matrix")
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    for randomize, blocks in zip(args.randomize, args.ref_blocks):
        our_s, our_alpha = ours(args.binary, args.model, bool(randomize), env)
        ref_s, ref_alpha = reference(args.model, bool(randomize), blocks)
        common = sorted(set(our_alpha) & set(ref_alpha))
        worst = max(abs(our_alpha[k] - ref_alpha[k]) / abs(ref_alpha[k]) for k in common)
        print(json.dumps({"bench": "spectra_smollm2" + ("_randomize" if randomize else ""), "ours_matrices": len(our_alpha),
                          "ref_matrices": len(ref_alpha), "threads": args.threads, "ours_s": round(our_s, 3), "ref_s": round(ref_s, 3),
                          "ratio": round((ref_s / len(ref_alpha)) / (our_s / len(our_alpha)), 2), "max_rel_alpha_diff": worst,
                          "reference": "weightwatcher analyze(min_evals=50, mp_fit=True%s)" % (", randomize=True" if randomize else "")}),
              flush=True)


if __name__ == "__main__":
    main()
