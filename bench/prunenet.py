#!/usr/bin/env python3
"""`bench/run prunenet`: PruneNet policy training on SmolLM2-135M (30 gate matrices 1536×576, 20
episodes, ratio 0.3, KS penalty), PruneLang against a numpy reference implementation of the same
episode loop: scores σ(W·v), relaxed-Bernoulli noise, a Plackett–Luce draw of (1−r)·n rows, the
singular values of the kept rows by a full SVD (numpy.linalg.svd, values only — as the authors'
code calls torch.linalg.svdvals), the KS distance, the discounted return, REINFORCE with the exact
log-probability and a per-layer baseline, one AdamW step per episode.

The reference is slow (an SVD of a 1075×576 matrix per layer per episode), so by default it runs
`--ref-episodes` episodes (2) and its 20-episode time is extrapolated from the time per episode;
both are printed. Prints one JSON object: ours_s, ref_s (extrapolated), ratio = ref_s / ours_s."""
import argparse, json, subprocess, sys, time
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def gate_matrices(path):
    reader = GGUFReader(path)
    mats = {}
    for t in reader.tensors:
        if t.name.endswith("ffn_gate.weight"):
            block = int(t.name.split(".")[1])
            w = dequantize(t.data, t.tensor_type).astype(np.float32)
            mats[block] = w.reshape(-1, w.shape[-1])
    return [mats[b] for b in sorted(mats)]


def ks(a, b):
    a, b = np.sort(a), np.sort(b)
    allv = np.concatenate([a, b])
    fa = np.searchsorted(a, allv, side="right") / len(a)
    fb = np.searchsorted(b, allv, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def train(states, episodes, ratio, lr=5e-4, gamma=0.99, seed=0):
    rng = np.random.default_rng(seed)
    n, d = states[0].shape
    k = n - int(round(ratio * n))
    w_inter = rng.uniform(-1, 1, (n, d)) / np.sqrt(d)
    w_proj = rng.uniform(-1, 1, n) / np.sqrt(n)
    original = [np.linalg.svd(w.astype(np.float64), compute_uv=False) for w in states]
    m = [np.zeros_like(w_inter), np.zeros_like(w_proj)]
    v2 = [np.zeros_like(w_inter), np.zeros_like(w_proj)]
    baseline = None
    curve = []
    for ep in range(episodes):
        v = w_inter.T @ w_proj
        pens, grads_z = [], []
        for l, w in enumerate(states):
            z = w.astype(np.float64) @ v
            u = rng.uniform(1e-12, 1 - 1e-12, n)
            s = sigmoid(z + np.log(u) - np.log1p(-u))
            order = np.argsort(-(np.log(s) + rng.gumbel(size=n)))[:k]
            sk = np.linalg.svd(w[order], compute_uv=False)
            pens.append(ks(original[l], sk))
            kept = np.zeros(n, bool); kept[order] = True
            remaining = s[~kept].sum() + np.cumsum(s[order][::-1])[::-1]
            c = np.cumsum(1 / remaining)
            g = np.empty(n)
            g[order] = 1 / s[order] - c
            g[~kept] = -c[-1]
            grads_z.append(g * s * (1 - s))
        pens = np.array(pens)
        returns = np.array([sum(gamma ** j * pens[l + j] for j in range(len(pens) - l)) for l in range(len(pens))])
        if baseline is None:
            baseline = returns.copy()
        gv = sum((returns[l] - baseline[l]) / len(states) * (states[l].T.astype(np.float64) @ grads_z[l]) for l in range(len(states)))
        baseline += (returns - baseline) / (ep + 1)
        if ep > 0:
            grads = [np.outer(w_proj, gv), w_inter @ gv]
            params = [w_inter, w_proj]
            for i in range(2):
                params[i] *= 1 - lr * 0.01
                m[i] = 0.9 * m[i] + 0.1 * grads[i]
                v2[i] = 0.999 * v2[i] + 0.001 * grads[i] ** 2
                params[i] -= lr * (m[i] / (1 - 0.9 ** ep)) / (np.sqrt(v2[i] / (1 - 0.999 ** ep)) + 1e-8)
        curve.append(float(pens.mean()))
    return curve


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--ref-episodes", type=int, default=2)
    ap.add_argument("--ratio", type=float, default=0.3)
    args = ap.parse_args()

    proc = subprocess.run([args.binary, "prunenet", args.model, str(args.episodes), str(args.ratio)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"prunelang-bench failed: {proc.stderr.strip()}")
    ours = json.loads(proc.stdout)

    t0 = time.perf_counter()
    states = gate_matrices(args.model)
    t1 = time.perf_counter()
    curve = train(states, args.ref_episodes, args.ratio)
    t2 = time.perf_counter()
    per_episode = (t2 - t1) / args.ref_episodes
    ref_s = (t1 - t0) + per_episode * args.episodes
    print(json.dumps(dict(bench=ours["bench"], ours_s=round(ours["ours_s"], 3), ours_episodes_s=round(ours["episodes_s"], 3),
                          ours_prepare_s=round(ours["prepare_s"], 3), ref="numpy (same loop, numpy.linalg.svd)",
                          ref_s=round(ref_s, 3), ref_measured_episodes=args.ref_episodes,
                          ref_s_per_episode=round(per_episode, 3), ratio=round(ref_s / ours["ours_s"], 2),
                          ours_curve=[round(x, 4) for x in ours["curve"]], ref_curve=[round(x, 4) for x in curve])))


if __name__ == "__main__":
    main()
