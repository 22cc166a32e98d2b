#!/usr/bin/env python3
"""`bench/run mlp`: one training epoch of LeNet-300-100 (sizes 64-300-100-10, ReLU) on all 1,797
scikit-learn digits with Adam (lr 1e-3), mini-batches in a fresh shuffled order, PruneLang against
PyTorch on the CPU with the same architecture, batch, optimiser and threads, in one run.

Each side runs `--epochs` consecutive epochs and reports its best single-epoch wall time; ratio =
PyTorch's time / ours (> 1: PruneLang faster). PyTorch is not in the test venv (CI has no use for
it): the driver runs this file with the Python of `.venv-torch` (made by scripts/ensure-torch) or of
$PRUNELANG_TORCH_PYTHON. Prints one JSON object per batch size."""
import argparse, json, os, subprocess, time

import numpy as np
import torch


def load_digits(path):
    raw = np.loadtxt(path, delimiter=",", dtype=np.float32)
    return torch.from_numpy(raw[:, :64] / 16), torch.from_numpy(raw[:, 64].astype(np.int64))


def torch_epochs(x, y, sizes, batch, epochs):
    torch.manual_seed(0)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    best, last = float("inf"), float("nan")
    n = x.shape[0]
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        best = min(best, time.perf_counter() - t0)
        last = total / n
    return best, last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--digits", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 16, 256])
    ap.add_argument("--sizes", default="64,300,100,10")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    x, y = load_digits(args.digits)
    sizes = [int(s) for s in args.sizes.split(",")]
    for batch in args.batches:
        out = subprocess.run([args.binary, "mlp", args.digits, args.sizes, str(batch), str(args.epochs)],
                             check=True, capture_output=True, text=True, env=env).stdout
        ours = json.loads(out.strip().splitlines()[-1])
        ref_s, ref_loss = torch_epochs(x, y, sizes, batch, args.epochs)
        print(json.dumps({"bench": f"mlp_epoch_batch{batch}", "sizes": sizes, "examples": int(x.shape[0]),
                          "threads": args.threads, "ours_s": ours["ours_s"], "ref_s": ref_s,
                          "ratio": ref_s / ours["ours_s"], "ours_final_loss": ours["final_loss"],
                          "ref_final_loss": ref_loss, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
