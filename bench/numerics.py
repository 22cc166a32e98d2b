#!/usr/bin/env python3
"""`bench/run numerics`: PruneLang's Numerics against numpy/scipy, side by side, on the same inputs.

Writes the inputs (raw little-endian arrays) to a scratch folder, times numpy/scipy on them, runs
the Swift side (`prunelang-bench numerics DIR`) on the same files, checks that both computed the
same thing, and prints one JSON object per benchmark:
  {"bench": NAME, "ours_s": x, "ref": "numpy"|"scipy", "ref_s": y, "ratio": y/x, ...accuracy...}
ratio > 1 means PruneLang is faster. Timings are the best of `--repeats` runs on each side.
"""
import argparse, json, os, subprocess, sys, time
import numpy as np
import scipy.stats

SMALL = dict(count=30, rows=1536, cols=576)      # SmolLM2-135M's FFN shape
BIG = dict(count=1, rows=11008, cols=4096)        # LLaMA-2-7B's FFN shape
GEMM_N = 1024
SAMPLES = 1_000_000


def best_of(repeats, fn):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=None, help="benchmark names to run")
    args = ap.parse_args()
    d = args.dir
    os.makedirs(d, exist_ok=True)
    want = lambda name: args.only is None or name in args.only

    rng = np.random.default_rng(20250101)
    small = rng.standard_normal((SMALL["count"], SMALL["rows"], SMALL["cols"]), dtype=np.float32)
    small.tofile(os.path.join(d, "svd_small.f32"))
    if want("svdvals_11008x4096"):
        big = rng.standard_normal((BIG["rows"], BIG["cols"]), dtype=np.float32)
        big.tofile(os.path.join(d, "svd_big.f32"))
    ga = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    gb = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    ga.tofile(os.path.join(d, "gemm_a.f32")); gb.tofile(os.path.join(d, "gemm_b.f32"))
    # Two 10^6-sample sets from slightly different distributions (with ties, as spectra have none
    # but rounded data does).
    xa = rng.standard_normal(SAMPLES)
    xb = np.round(rng.standard_normal(SAMPLES) * 1.02 + 0.01, 4)
    xa.tofile(os.path.join(d, "samples_a.f64")); xb.tofile(os.path.join(d, "samples_b.f64"))
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(dict(repeats=args.repeats, svd_small=SMALL, svd_big=BIG, gemm_n=GEMM_N, samples=SAMPLES), f)

    # Reference timings.
    ref = {}
    if want("svdvals_1536x576_x30"):
        ref["svdvals_1536x576_x30"] = ("numpy", *best_of(args.repeats, lambda: np.stack(
            [np.linalg.svd(m, compute_uv=False) for m in small])))
    if want("svdvals_11008x4096"):
        ref["svdvals_11008x4096"] = ("numpy", *best_of(1, lambda: np.linalg.svd(big, compute_uv=False)))
    if want("gemm_1024"):
        ref["gemm_1024"] = ("numpy", *best_of(args.repeats * 10, lambda: ga @ gb))
    if want("ks_2samp_1e6"):
        ref["ks_2samp_1e6"] = ("scipy", *best_of(args.repeats, lambda: scipy.stats.ks_2samp(xa, xb)))
    if want("anderson_ksamp_1e6"):
        import warnings
        def ad():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return scipy.stats.anderson_ksamp([xa, xb])
        ref["anderson_ksamp_1e6"] = ("scipy", *best_of(args.repeats, ad))

    cmd = [args.binary, "numerics", d] + [n for n in ref]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"prunelang-bench failed: {proc.stderr.strip()}")
    failures = 0
    for line in proc.stdout.splitlines():
        ours = json.loads(line)
        name = ours["bench"]
        tool, ref_s, ref_out = ref[name]
        row = dict(bench=name, ours_s=round(ours["ours_s"], 6), ref=tool, ref_s=round(ref_s, 6),
                   ratio=round(ref_s / ours["ours_s"], 3))
        ok = True
        if name.startswith("svdvals"):
            mine = np.fromfile(os.path.join(d, "ours_svd_small.f32" if "x30" in name else "ours_svd_big.f32"), dtype=np.float32)
            theirs = np.asarray(ref_out, dtype=np.float64).reshape(-1, mine.size // (30 if "x30" in name else 1))
            mine = mine.reshape(theirs.shape).astype(np.float64)
            err = np.max(np.abs(mine - theirs) / theirs[:, :1])
            row["max_err_over_sigma_max"] = float(f"{err:.3g}")
            ok = err <= 1e-4
        elif name == "gemm_1024":
            mine = np.fromfile(os.path.join(d, "ours_gemm.f32"), dtype=np.float32).reshape(GEMM_N, GEMM_N)
            exact = ga.astype(np.float64) @ gb.astype(np.float64)
            row["max_abs_err"] = float(f"{np.max(np.abs(mine - exact)):.3g}")
            ok = row["max_abs_err"] < 1e-2
        else:
            stat = ref_out.statistic
            row["rel_err_statistic"] = float(f"{abs(ours['statistic'] - stat) / abs(stat):.3g}")
            if "p_value" in ours:
                p = ref_out.pvalue
                row["rel_err_p_value"] = float(f"{abs(ours['p_value'] - p) / max(abs(p), 1e-300):.3g}")
            ok = row["rel_err_statistic"] <= 1e-9
        row["agrees"] = bool(ok)
        failures += not ok
        print(json.dumps(row), flush=True)
    if failures:
        sys.exit(f"{failures} benchmark(s) disagree with the reference")


if __name__ == "__main__":
    main()
