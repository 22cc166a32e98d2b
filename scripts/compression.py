#!/usr/bin/env python3
"""The driver behind scripts/compression (see there). Not meant to be run on its own."""
import argparse, ctypes, json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(os.environ.get("PRUNELANG_MODELS", os.path.join(ROOT, "models")), "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf")
# name, PruneLang's save type, llama.cpp's llama_ftype
TYPES = [("F16", "f16", 1), ("Q8_0", "q8_0", 7), ("Q6_K", "q6_k", 18), ("Q5_K_M", "q5_k_m", 17),
         ("Q4_K_M", "q4_k_m", 15), ("Q3_K_M", "q3_k_m", 12), ("Q2_K", "q2_k", 10)]
QUANTIZE = """
import ctypes, sys, llama_cpp
llama_cpp.llama_backend_init()
p = llama_cpp.llama_model_quantize_default_params()
p.ftype, p.allow_requantize, p.nthread = int(sys.argv[3]), bool(int(sys.argv[4])), 2
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
"""


def llama_quantize(src, dst, ftype, requantize=False):
    subprocess.run([sys.executable, "-c", QUANTIZE, src, dst, str(ftype), str(int(requantize))], check=True, capture_output=True)


def prunelang(binary, script):
    r = subprocess.run([binary, "-e", script], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"prunelang failed: {r.stderr.strip()}")
    return r.stdout


def tensor_bytes(path):
    import gguf
    r = gguf.GGUFReader(path)
    return sum(int(t.n_bytes) for t in r.tensors), sum(int(t.n_elements) for t in r.tensors)


def measure(binary, path, f32, windows):
    """ppl (all positions) and kld against the F32 model, scaled to integers so that no printing
    precision is lost."""
    out = prunelang(binary, f'm = load("{path}")\nb = load("{f32}")\n'
                            f'print(round(ppl(m, windows={windows}) * 1e6))\n'
                            f'k = kld(m, b, windows={windows})\n'
                            'print(round(k.mean * 1e9))\nprint(round(k.p99 * 1e9))\nprint(round(k.top1 * 1e9))\nprint(k.tokens)')
    v = [float(x) for x in out.split()[-5:]]
    return dict(ppl=v[0] / 1e6, kld=v[1] / 1e9, kld_p99=v[2] / 1e9, same_top=v[3] / 1e9, kld_tokens=int(v[4]))


def section(rows, windows):
    lines = ["## Compression", "",
             f"SmolLM2-135M-Instruct in llama.cpp's types, written by PruneLang (`save(m, path, type=)`) and by llama.cpp's",
             "quantiser (`llama_model_quantize`, llama-cpp-python 0.3.36, no importance matrix) from the same F32 GGUF",
             "(llama.cpp's dequantisation of the Q4_1 file). Bits per weight: tensor bytes × 8 / parameters. Perplexity:",
             f"WikiText-2, ctx 512, {windows} windows, all positions (`ppl`). KL: mean KL(F32 ‖ model) per token, its 99th",
             f"percentile and the top-1 agreement over the second half of {windows} windows (`kld`, llama.cpp's",
             "--kl-divergence statistics). Written by scripts/compression.", "",
             "| type | writer | file MB | bits/weight | ppl | mean KL | KL p99 | same top-1 |",
             "|---|---|---|---|---|---|---|---|"]
    for name, _, _ in TYPES:
        for who in ("PruneLang", "llama.cpp"):
            r = rows.get(f"{name}-{who}")
            if not r:
                continue
            lines.append(f"| {name} | {who} | {r['file_bytes'] / 1e6:.1f} | {r['bpw']:.3f} | {r['ppl']:.3f} | {r['kld']:.5f} | "
                         f"{r['kld_p99']:.4f} | {100 * r['same_top']:.2f}% |")
    f32 = rows.get("F32")
    if f32:
        lines += ["", f"F32 (the base): {f32['file_bytes'] / 1e6:.1f} MB, {f32['bpw']:.1f} bits/weight, ppl {f32['ppl']:.3f}."]
    same = [n for n, _, _ in TYPES if rows.get(f"{n}-PruneLang", {}).get("same_bytes")]
    if same:
        lines += ["", f"PruneLang's and llama.cpp's files hold byte-identical tensors for: {', '.join(same)}."]
    shared = [n for n, _, _ in TYPES if rows.get(f"{n}-PruneLang", {}).get("measured_as")]
    if shared:
        lines += [f"Their forward passes are therefore the same, and the quality columns of {', '.join(shared)} were "
                  "measured once, on llama.cpp's file."]
    missing = [k for k in ["F32"] + [f"{n}-{w}" for n, _, _ in TYPES for w in ("PruneLang", "llama.cpp")] if k not in rows]
    if missing:
        lines += ["", f"Not measured yet at {windows} windows (the run resumes from its cells): {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--windows", type=int, default=40)
    ap.add_argument("--cells", default=os.path.join(ROOT, "docs", "results", "compression"))
    ap.add_argument("--work", default=None, help="where the GGUF files go (default: a temporary folder)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "RESULTS.md"))
    ap.add_argument("--cached", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    os.makedirs(args.cells, exist_ok=True)
    work = args.work or tempfile.mkdtemp(prefix="prunelang-compression-")
    os.makedirs(work, exist_ok=True)
    f32 = os.path.join(work, "smollm2-f32.gguf")

    def cell(key):
        return os.path.join(args.cells, f"{key}-w{args.windows}.json")

    rows = {}
    for key in ["F32"] + [f"{n}-{w}" for n, _, _ in TYPES for w in ("PruneLang", "llama.cpp")]:
        if os.path.exists(cell(key)):
            rows[key] = json.load(open(cell(key)))
    if not args.cached:
        if not os.path.exists(f32):
            llama_quantize(MODEL, f32, 0, requantize=True)
        if "F32" not in rows:
            b, n = tensor_bytes(f32)
            rows["F32"] = dict(file_bytes=os.path.getsize(f32), bpw=8 * b / n, ppl=float(prunelang(args.binary, f'print(round(ppl(load("{f32}"), windows={args.windows}) * 1e6))').split()[-1]) / 1e6)
            json.dump(rows["F32"], open(cell("F32"), "w"), indent=1)
        for name, ours_type, ftype in TYPES:
            if args.only and args.only.lower() not in name.lower():
                continue
            theirs, ours = os.path.join(work, f"llama-{name}.gguf"), os.path.join(work, f"prunelang-{name}.gguf")
            for who, path in (("llama.cpp", theirs), ("PruneLang", ours)):
                key = f"{name}-{who}"
                if key in rows:
                    continue
                if not os.path.exists(theirs):
                    llama_quantize(f32, theirs, ftype)
                if who == "PruneLang" and not os.path.exists(ours):
                    prunelang(args.binary, f'save(load("{f32}"), "{ours}", type="{ours_type}")')
                b, n = tensor_bytes(path)
                row = dict(file_bytes=os.path.getsize(path), bpw=8 * b / n)
                if who == "PruneLang":
                    import gguf, numpy as np
                    a = {t.name: t for t in gguf.GGUFReader(ours).tensors}
                    c = {t.name: t for t in gguf.GGUFReader(theirs).tensors}
                    row["same_bytes"] = set(a) == set(c) and all(
                        a[k].tensor_type == c[k].tensor_type and np.array_equal(np.asarray(a[k].data).view(np.uint8), np.asarray(c[k].data).view(np.uint8)) for k in c)
                twin = rows.get(f"{name}-llama.cpp")
                if who == "PruneLang" and row["same_bytes"] and twin and "ppl" in twin:
                    # Byte-identical tensors give the same forward pass: the quality columns are
                    # llama.cpp's file's, measured once (the row says so).
                    row.update({k: twin[k] for k in ("ppl", "kld", "kld_p99", "same_top", "kld_tokens")}, measured_as="llama.cpp")
                else:
                    row.update(measure(args.binary, path, f32, args.windows))
                rows[key] = row
                json.dump(row, open(cell(key), "w"), indent=1)
                print(f"{key}: {row}", file=sys.stderr)
    text = section(rows, args.windows)
    doc = open(args.out).read() if os.path.exists(args.out) else ""
    if "## Compression\n" in doc:
        start = doc.index("## Compression\n")
        nxt = re.search(r"\n## ", doc[start + 3:])
        end = start + 3 + nxt.start() + 1 if nxt else len(doc)
        doc = doc[:start] + text + ("\n" if nxt else "") + doc[end:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text if doc.strip() else text
    open(args.out, "w").write(doc)
    print(text)


if __name__ == "__main__":
    main()
