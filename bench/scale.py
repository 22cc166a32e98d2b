#!/usr/bin/env python3
"""`bench/run scale`: a 7B-shaped model end to end in bounded memory (issue 26).

Builds a GGUF with LLaMA-2-7B's shapes (scripts/make-scale-model.py: Q4_0, ~3.8 GB, random weights
with heavy-tailed spectra) in a temporary folder, then runs each step of the issue as its own
`prunelang run` process and measures its wall time and memory: peak RSS (VmHWM, which counts the
pages of the memory-mapped file it touched) and peak anonymous RSS (RssAnon polled every 0.1 s:
the memory beyond the mapping). Each step is printed as one JSON object against its goal and,
where one exists, against the reference tool run in the same bench (numpy for spectra,
extrapolated from a few matrices; llama.cpp through llama-cpp-python for ppl and generate).

A step that cannot fit must refuse with PruneLang's memory error, not be killed by the kernel: the
bench records "refused" with the message, and itself stops a child whose RSS passes --rss-cap
("stopped: rss cap", which means PruneLang failed to refuse) or that runs past --timeout.

    bench/run scale [--shape 7b|1b|tiny] [--workdir /tmp] [--model PATH] [--keep]
                    [--steps load spectra train prune ppl generate wanda sparsegpt slicegpt] [--episodes 20] [--ratio 0.3]
                    [--spectra-matrices 224] [--timeout 1800] [--rss-cap 12G] [--threads 2]

--spectra-matrices N times the first N of the 224 matrices (block order, q k v o gate up down) and
extrapolates to all of them (reported as such). Skips, with a message, when the disk lacks room.
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ROLES = ["q", "k", "v", "o", "gate", "up", "down"]
GGUF_ROLES = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
              "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}
ATTN = {"q", "k", "v", "o"}
GOALS = {
    "load": "< 1 s, RSS < 200 MB",
    "spectra": "<= 10 min, peak RSS <= 2 GB beyond the mapped file",
    "train": "<= 15 min (20 episodes, ratio 0.3)",
    "prune": "peak RSS <= 2 GB beyond the mapping; file not larger; llama.cpp loads it and generates",
    "ppl": "one 512-token window within 1.5x llama.cpp's time, peak RSS <= 1.5x llama.cpp's",
    "generate": "within 1.5x llama.cpp's time, peak RSS <= 1.5x llama.cpp's",
    "wanda": "fits: sequential over blocks, one block's activations and Float32 linears at a time; time per block recorded",
    "sparsegpt": "fits: sequential over blocks, one block's activations and Float32 linears at a time; time per block recorded",
    "slicegpt": "fits: sequential over blocks, one block's activations and Float32 linears at a time; time per block recorded",
}


def parse_bytes(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper()
    return int(float(t[:-1]) * units[t[-1]]) if t[-1] in units else int(t)


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return None


def measure(cmd, timeout, rss_cap, env=None):
    """Runs cmd, polling its memory; returns wall, peak RSS and peak anonymous RSS in MiB, rc, output."""
    out = tempfile.TemporaryFile(mode="w+")
    err = tempfile.TemporaryFile(mode="w+")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
    peak_hwm = peak_anon = 0
    stopped = None
    while p.poll() is None:
        hwm, anon = status_kib(p.pid, "VmHWM"), status_kib(p.pid, "RssAnon")
        if hwm: peak_hwm = max(peak_hwm, hwm)
        if anon: peak_anon = max(peak_anon, anon)
        if anon and anon * 1024 > rss_cap:
            stopped = f"stopped by the bench: anonymous RSS passed the cap of {rss_cap / 2**30:.1f} GiB"
            p.kill()
        elif time.perf_counter() - t0 > timeout:
            stopped = f"stopped by the bench after the {timeout} s timeout"
            p.kill()
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    out.seek(0); err.seek(0)
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(peak_hwm / 1024), "peak_anon_mib": round(peak_anon / 1024),
            "rc": p.returncode, "stopped": stopped, "stdout": out.read(), "stderr": err.read()}


def prunelang(binary, script, args, env):
    with tempfile.NamedTemporaryFile("w", suffix=".prune", delete=False) as f:
        f.write(script)
    try:
        return measure([binary, "run", f.name], args.timeout, args.rss_cap, env)
    finally:
        os.unlink(f.name)


def python(code, argv, args, env):
    return measure([sys.executable, "-c", code] + argv, args.timeout, args.rss_cap, env)


def outcome(r):
    if r["stopped"]:
        return "stopped", r["stopped"]
    if r["rc"] == 0:
        return "ok", None
    text = (r["stderr"] or r["stdout"]).strip().splitlines()
    message = next((l for l in text if "needs about" in l), text[-1] if text else f"exit {r['rc']}")
    return ("refused" if "needs about" in message else "failed"), message.strip()


def report(step, r, **extra):
    status, message = outcome(r)
    row = {"bench": "scale", "step": step, "status": status, "wall_s": r["wall_s"], "peak_rss_mib": r["peak_rss_mib"],
           "peak_anon_mib": r["peak_anon_mib"], "goal": GOALS.get(step)}
    if message: row["message"] = message[:400]
    row.update(extra)
    print(json.dumps(row), flush=True)
    return row


LLAMA_PPL = r"""
import sys, time, numpy as np
from llama_cpp import Llama
path, text, n, threads = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3]), int(sys.argv[4])
llm = Llama(model_path=path, n_ctx=n, n_batch=n, logits_all=True, verbose=False, n_threads=threads)
toks = llm.tokenize(text[:20000].encode(), add_bos=False)[:n]
t0 = time.perf_counter()
llm.eval(toks)
s = np.array(llm.scores[:len(toks)], dtype=np.float64)
ls = s - s.max(1, keepdims=True); ls -= np.log(np.exp(ls).sum(1, keepdims=True))
nll = -np.mean([ls[i, toks[i + 1]] for i in range(len(toks) - 1)])
print("eval_s", round(time.perf_counter() - t0, 2), "tokens", len(toks), "ppl", float(np.exp(nll)))
"""

LLAMA_GENERATE = r"""
import sys, time
from llama_cpp import Llama
path, prompt, n, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
llm = Llama(model_path=path, n_ctx=256, verbose=False, n_threads=threads)
t0 = time.perf_counter()
out = llm(prompt, max_tokens=n, temperature=0)
print("gen_s", round(time.perf_counter() - t0, 2), "text", repr(out["choices"][0]["text"]))
"""

NUMPY_SVD = r"""
import sys, time, json, numpy as np, gguf
path, names = sys.argv[1], sys.argv[2].split(",")
r = gguf.GGUFReader(path)
by = {t.name: t for t in r.tensors}
times = {}
for name in names:
    t = by[name]
    w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape([int(d) for d in reversed(t.shape)])
    t0 = time.perf_counter()
    np.linalg.svd(w, compute_uv=False)
    times[name] = time.perf_counter() - t0
print(json.dumps(times))
"""


def wikitext():
    return os.path.join(os.environ.get("PRUNELANG_DATA", os.path.join(REPO, "..", "shared", "data")), "wikitext-2-raw", "wiki.test.raw")


def main():
    ap = argparse.ArgumentParser(description="issue 26: a 7B-shaped model end to end in bounded memory")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--shape", default="7b", choices=["7b", "1b", "tiny"])
    ap.add_argument("--workdir", default=None, help="folder for the model and the pruned file (default: a temp folder)")
    ap.add_argument("--model", default=None, help="use this model file instead of building one")
    ap.add_argument("--keep", action="store_true", help="keep the built model")
    ap.add_argument("--steps", nargs="+", default=["load", "spectra", "train", "prune", "ppl", "generate", "wanda"],
                    help="also: sparsegpt (not by default: tens of minutes at 7B)")
    ap.add_argument("--calib", type=int, default=1, help="calibration windows of 512 tokens for wanda and sparsegpt")
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--ratio", type=float, default=0.3)
    ap.add_argument("--spectra-matrices", type=int, default=224)
    ap.add_argument("--numpy-matrices", type=int, default=3, help="matrices of each shape numpy times for its extrapolation")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--rss-cap", type=parse_bytes, default=parse_bytes("12G"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=16)
    args = ap.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))

    work = args.workdir or tempfile.mkdtemp(prefix="prunelang-scale-")
    os.makedirs(work, exist_ok=True)
    model = args.model
    built = False
    if model is None:
        model = os.path.join(work, f"scale-{args.shape}.gguf")
        need = {"7b": 5, "1b": 1.5, "tiny": 0.1}[args.shape] * 1e9
        free = shutil.disk_usage(work).free
        if free < need:
            print(json.dumps({"bench": "scale", "skipped": f"{work} has {free / 1e9:.1f} GB free; the {args.shape} model and its pruned copy need about {need / 1e9:.0f} GB"}))
            return
        if not os.path.exists(model):
            r = measure([sys.executable, os.path.join(REPO, "scripts", "make-scale-model.py"), "--shape", args.shape, "--out", model],
                        args.timeout, args.rss_cap, env)
            if r["rc"] != 0:
                sys.exit("make-scale-model.py failed:\n" + r["stderr"][-2000:])
            built = True
            print(json.dumps({"bench": "scale", "step": "build", "wall_s": r["wall_s"], "peak_rss_mib": r["peak_rss_mib"],
                              "bytes": os.path.getsize(model)}), flush=True)
    size = os.path.getsize(model)
    import gguf  # the model's shapes, for the spectra's reference and the matrix list
    rd = gguf.GGUFReader(model)
    blocks = int(rd.fields["llama.block_count"].parts[-1][0])
    del rd
    q = json.dumps(model)
    try:
        if "load" in args.steps:
            r = prunelang(args.binary, f"m = load({q})\nprint(m)\n", args, env)
            report("load", r, file_bytes=size)

        if "spectra" in args.steps:
            n = min(args.spectra_matrices, blocks * 7)
            picks = [(b, role) for b in range(blocks) for role in ROLES][:n]
            lines = [f"m = load({q})", "n = 0"]
            for b, role in picks:
                part = "attn" if role in ATTN else "ffn"
                # analyze: the ESD (sketched from a smaller side of 4096 on, spectrum="auto"), its
                # power-law alpha and WeightWatcher's other columns, one matrix at a time
                lines.append(f"a = analyze(m.layers[{b}].{part}.{role})\nn = n + 1\nprint(\"done {b} {role}\", a.alpha)")
            lines.append('print("matrices analysed", n)')
            r = prunelang(args.binary, "\n".join(lines) + "\n", args, env)
            total = blocks * 7
            done = sum(1 for l in r["stdout"].splitlines() if l.startswith("done "))
            extra = {"matrices": n, "done": done, "of": total}
            if r["stopped"] and done:
                extra["note"] = f"stopped after {done} matrices; extrapolated from them"
                extra["extrapolated_s"] = round(r["wall_s"] * total / done, 1)
            if n < total and r["rc"] == 0:
                extra["note"] = "extrapolated to all matrices from the share timed (same mix of shapes when whole blocks are timed)"
                extra["extrapolated_s"] = round(r["wall_s"] * total / n, 1)
            # numpy reference: a few matrices of each shape, extrapolated to all of them
            names = []
            for role in ("q", "k", "gate", "down"):
                names += [f"blk.{b}.{GGUF_ROLES[role]}.weight" for b in range(min(args.numpy_matrices, blocks))]
            nr = python(NUMPY_SVD, [model, ",".join(names)], args, env)
            if nr["rc"] == 0:
                times = json.loads(nr["stdout"].strip().splitlines()[-1])
                per = {role: sum(v for k, v in times.items() if f".{GGUF_ROLES[role]}." in k) / max(1, sum(1 for k in times if f".{GGUF_ROLES[role]}." in k))
                       for role in ("q", "k", "gate", "down")}
                # o has q's shape, v has k's, up has gate's
                est = blocks * (2 * per["q"] + 2 * per["k"] + 2 * per["gate"] + per["down"])
                extra["numpy_extrapolated_s"] = round(est, 1)
                extra["numpy_per_matrix_s"] = {k: round(v, 2) for k, v in per.items()}
                extra["numpy_peak_rss_mib"] = nr["peak_rss_mib"]
                ours = extra.get("extrapolated_s", r["wall_s"])
                extra["ratio"] = round(est / ours, 2) if ours else None
            else:
                extra["numpy"] = " ".join(x for x in outcome(nr) if x)
            report("spectra", r, **extra)

        if "train" in args.steps:
            r = prunelang(args.binary, f"m = load({q})\np = train_policy(m, ratio={args.ratio}, episodes={args.episodes}, seed=0)\nprint(p)\n", args, env)
            report("train", r, episodes=args.episodes, ratio=args.ratio)

        if "prune" in args.steps:
            out = os.path.join(work, "pruned.gguf")
            r = prunelang(args.binary, f'm = load({q})\ns = prune(m, "random-rows", ratio={args.ratio}, exact=false)\nr = save(s, {json.dumps(out)})\nprint(r)\n', args, env)
            extra = {"ratio": args.ratio}
            if r["rc"] == 0 and os.path.exists(out):
                extra["source_bytes"], extra["pruned_bytes"] = size, os.path.getsize(out)
                extra["not_larger"] = extra["pruned_bytes"] <= size
                note = [l for l in r["stderr"].splitlines() if l.startswith("note:")]
                if note: extra["note"] = note[0]
                g = python(LLAMA_GENERATE, [out, "The capital of France is", "8", str(args.threads)], args, env)
                extra["llama_cpp_loads_pruned"] = g["rc"] == 0
                extra["llama_cpp_pruned"] = (g["stdout"].strip() or g["stderr"][-300:]).strip()
                extra["llama_cpp_pruned_wall_s"] = g["wall_s"]
                os.unlink(out)
            report("prune", r, **extra)

        if "ppl" in args.steps:
            text = wikitext()
            ref = python(LLAMA_PPL, [model, text, str(args.ctx), str(args.threads)], args, env)
            r = prunelang(args.binary, f"m = load({q})\nprint(ppl(m, data={json.dumps(text)}, ctx={args.ctx}, windows=1))\n", args, env)
            extra = {"ctx": args.ctx, "llama_cpp_wall_s": ref["wall_s"], "llama_cpp_peak_rss_mib": ref["peak_rss_mib"],
                     "llama_cpp": (ref["stdout"].strip() or ref["stderr"][-300:]).strip()}
            if r["rc"] == 0:
                extra["time_ratio"] = round(r["wall_s"] / ref["wall_s"], 2)
                extra["rss_ratio"] = round(r["peak_rss_mib"] / max(1, ref["peak_rss_mib"]), 2)
                extra["result"] = r["stdout"].strip()[-200:]
            report("ppl", r, **extra)

        if "generate" in args.steps:
            prompt = "The capital of France is"
            ref = python(LLAMA_GENERATE, [model, prompt, str(args.tokens), str(args.threads)], args, env)
            r = prunelang(args.binary, f"m = load({q})\nprint(generate(m, {json.dumps(prompt)}, tokens={args.tokens}))\n", args, env)
            extra = {"tokens": args.tokens, "llama_cpp_wall_s": ref["wall_s"], "llama_cpp_peak_rss_mib": ref["peak_rss_mib"],
                     "llama_cpp": (ref["stdout"].strip() or ref["stderr"][-300:]).strip()}
            if r["rc"] == 0:
                extra["time_ratio"] = round(r["wall_s"] / ref["wall_s"], 2)
                extra["rss_ratio"] = round(r["peak_rss_mib"] / max(1, ref["peak_rss_mib"]), 2)
                extra["result"] = r["stdout"].strip()[-200:]
            report("generate", r, **extra)
        for method, ratio in (("wanda", 0.5), ("sparsegpt", 0.5), ("slicegpt", 0.25)):
            if method not in args.steps:
                continue
            # Calibrated, sequential over blocks; the pruned (SliceGPT: rotated and sliced) linears
            # go to disk as Q8_0 (TensorSpill) because their Float32 form does not fit. Per-block
            # seconds from the progress lines.
            script = (f'm = load({q})\ns = prune(m, "{method}", ratio={ratio}, calib={args.calib})\n'
                      f'print(s)\nprint(ppl(s, data={json.dumps(wikitext())}, ctx=128, windows=1))\n')
            r = prunelang(args.binary, script, args, env)
            extra = {"ratio": ratio, "calib_windows": args.calib, "blocks": blocks}
            # `prunelang run` writes a progress line at most every 10 s with the stage's seconds so
            # far: "wanda (sequential, 1 windows) · ... 5/32 [38.2 s]", "slicegpt rotating and
            # slicing ... 5/32 [61.0 s]"
            beats = [(int(m.group(1)), float(m.group(3))) for m in
                     re.finditer(r"(?:sequential|slicing).* (\d+)/(\d+) \[([\d.]+) s\]", r["stderr"]) if int(m.group(2)) == blocks]
            if len(beats) >= 2 and beats[-1][0] > beats[0][0]:
                extra["seconds_per_block"] = round((beats[-1][1] - beats[0][1]) / (beats[-1][0] - beats[0][0]), 1)
                extra["seconds_per_block_from"] = f"progress lines, blocks {beats[0][0]}-{beats[-1][0]}"
            note = [l for l in r["stderr"].splitlines() if l.startswith("note:")]
            if note: extra["note"] = " | ".join(note)[:400]
            if r["rc"] == 0: extra["result"] = r["stdout"].strip()[-200:]
            report(method, r, **extra)
    finally:
        if built and not args.keep:
            os.unlink(model)
        if args.workdir is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
