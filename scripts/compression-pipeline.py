#!/usr/bin/env python3
"""The driver behind scripts/compression-pipeline (see there). Not meant to be run on its own."""
import argparse, importlib.util, json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "compression-pipeline.prune")
_spec = importlib.util.spec_from_file_location("compression", os.path.join(ROOT, "scripts", "compression.py"))
compression = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compression)

ROWS = ("random-rows", "contribution-rows")
# The steps in the order they run: the three pipelines' stages and final files first, then the
# perplexities of the intermediate stages.
STEPS = (["dense", "sparsegpt", "sparsegpt.rtn4", "sparsegpt.q4_0"]
         + [s for r in ROWS for s in (r, f"{r}.q4_k_m")]
         + ["dense.ppl", "sparsegpt.ppl"] + [f"{r}.ppl" for r in ROWS] + [f"{r}.rtn4" for r in ROWS])
# Steps whose numbers do not depend on the window count.
NO_PPL = {"dense", "sparsegpt"} | set(ROWS)
# The llama.cpp files whose tensor bytes the general-purpose compressors get.
FILES = {"sparsegpt.q4_0": "sparsegpt50-q4_0.gguf", **{f"{r}.q4_k_m": f"{r}20-q4_k_m.gguf" for r in ROWS}}


def run_step(binary, work, windows, step):
    t = time.time()
    r = subprocess.run([binary, "run", SCRIPT, work, str(windows), step], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"prunelang failed at step {step}: {r.stderr.strip()[-2000:]}")
    values = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                pass
    if not values:
        sys.exit(f"step {step} printed no numbers: {r.stdout[-2000:]}")
    values["seconds"] = round(time.time() - t, 1)
    return values


def tensor_data(path):
    """The bytes of every tensor of a GGUF file, in file order, and the tensor types held."""
    import gguf, numpy as np
    reader = gguf.GGUFReader(path)
    blobs = [np.asarray(t.data).view(np.uint8).tobytes() for t in reader.tensors]
    types = sorted({t.tensor_type.name for t in reader.tensors})
    return b"".join(blobs), types


def compressors(path):
    """zstd -19 and xz -9 (one thread each) on the tensor bytes of a GGUF file."""
    data, types = tensor_data(path)
    out = dict(tensor_bytes=len(data), types=types)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        for name, cmd in (("zstd19", ["zstd", "-19", "-T1", "-c", f.name]), ("xz9", ["xz", "-9", "-T1", "-c", f.name])):
            t = time.time()
            r = subprocess.run(cmd, capture_output=True, check=True)
            out[name] = len(r.stdout)
            out[name + "_seconds"] = round(time.time() - t, 1)
    return out


def mb(x):
    return f"{x / 1e6:.2f}"


def page(cells, windows, dense_params):
    """The Markdown page from the cells there are."""
    def get(step, key):
        return cells.get(step, {}).get(key)

    def ppl(step):
        v = get(step, "ppl")
        return f"{v:.3f}" if v is not None else "—"

    def bpw(nbytes):
        return f"{8 * nbytes / dense_params:.3f}" if nbytes is not None and dense_params else "—"

    lines = ["# Compression: the composed pipeline (issue 23)", "",
             "SmolLM2-135M-Instruct, starting from llama.cpp's F32 dequantisation of the Q4_1 file (the dense base of the",
             "Compression section). Written by `scripts/compression-pipeline`: every number below comes from a prunelang run of",
             "`scripts/compression-pipeline.prune`, except the zstd and xz columns (the compressors run on the same tensor bytes).",
             "",
             "Stages as `compressed_size(m, bits=4, block=32)` counts them, over the weight matrices (every 2-D weight; norms",
             "left out): **dense** = every weight of the unpruned model in Float32; **pruned** = the survivors in Float32 plus the",
             "sparsity pattern (structured pruning: the smaller matrices); **4-bit** = round-to-nearest symmetric 4-bit codes in",
             "blocks of 32 with a Float32 scale each (the teaching form of `quantize(..., bits=4, block=32)`: Q4_0's grouping,",
             "codes ±7), packed, plus the pattern; **coded** = those codes entropy-coded with rANS (its frequency table",
             "included), the scales coded losslessly by byte planes, plus the cheapest pattern code (bitmap, Huffman-coded",
             "runs or positions). Bits per weight: bytes × 8 / the dense model's weights "
             + (f"({dense_params:,.0f})" if dense_params else "") + ", so every column is",
             "comparable with the dense model. The coded stage is lossless: its perplexity is the 4-bit stage's. Pattern MB: the",
             "pattern bytes charged in the coded stage; a tensor whose codes are cheaper coded all together, zeros included",
             "(\"dense codes\"), carries none. The dense model in llama.cpp's types: docs/results/compression-quick.md (4 windows)",
             "and docs/results/compression.md (40).",
             ""]
    lines += ["## Bytes at each stage", "",
              "| pipeline | dense F32 MB | pruned MB | 4-bit MB | coded MB | 4-bit bits/w | coded bits/w | F32 ÷ coded | code entropy (bits) | pattern MB |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for step, name in (("dense", "dense (no pruning)"), ("sparsegpt", "SparseGPT 50% unstructured"),
                       ("random-rows", "random FFN rows 20%, seed 0"), ("contribution-rows", "contribution FFN rows 20%")):
        c = cells.get(step)
        if not c:
            continue
        lines.append(f"| {name} | {mb(c['dense_bytes'])} | {mb(c['pruned_bytes'])} | {mb(c['quantized_bytes'])} | "
                     f"{mb(c['coded_bytes'])} | {c['bpw_quantized']:.3f} | {c['bpw_coded']:.3f} | {c['dense_bytes'] / c['coded_bytes']:.1f}× | {c['code_entropy']:.3f} | "
                     f"{mb(c['pattern_bytes'])} |")
    lines += ["", "## llama.cpp files and general-purpose compressors", "",
              "The pruned model written by `save(p, path, type=)` in a llama.cpp type and read back. MB: the file's tensor bytes;",
              "bits/w per dense weight as above; zstd -19 and xz -9 (one thread) on those same tensor bytes.", "",
              "| pipeline | file type | tensor MB | bits/w | zstd -19 MB | bits/w | xz -9 MB | bits/w | tensor types in the file |",
              "|---|---|---|---|---|---|---|---|---|"]
    for step, name, typ in (("sparsegpt.q4_0", "SparseGPT 50%", "Q4_0"),
                            ("random-rows.q4_k_m", "random FFN rows 20%", "Q4_K_M"),
                            ("contribution-rows.q4_k_m", "contribution FFN rows 20%", "Q4_K_M")):
        z = cells.get("zip:" + step)
        if z:
            lines.append(f"| {name} | {typ} | {mb(z['tensor_bytes'])} | {bpw(z['tensor_bytes'])} | {mb(z['zstd19'])} | {bpw(z['zstd19'])} | "
                         f"{mb(z['xz9'])} | {bpw(z['xz9'])} | {', '.join(z['types'])} |")
        elif step in cells:
            # the compressors have not run yet: the file's tensor bytes as the model read back reports them
            t = cells[step]["stored_bytes"]
            lines.append(f"| {name} | {typ} | {mb(t)} | {bpw(t)} | — | — | — | — | — |")
    lines += ["", "A file's tensor bytes include the norms (F32) that the stages above leave out. SmolLM2's rows of 576 are not",
              "whole 256-blocks, so llama.cpp's Q4_K_M gives those matrices its fallback types (Q5_0; Q8_0 for the tied",
              "embedding), and a row-pruned FFN 1229 wide (1536 × 0.8) is not whole 32-blocks either: its down-projection is",
              "written as F16. That is why a row-pruned Q4_K_M file (122.5 MB) is larger than the dense model's (105.5 MB)."]
    lines += ["", f"## Perplexity of each result (WikiText-2, ctx 512, {windows} windows, all positions, as `ppl`)", "",
              "Each model saved and loaded back before it is measured (the 4-bit teaching form is written as F32, which holds",
              "its dequantised values exactly; the coded stage decodes to those same values).", "",
              "| pipeline | dense | pruned (F32) | 4-bit teaching = coded | llama.cpp file |",
              "|---|---|---|---|---|"]
    lines.append(f"| none (dense) | {ppl('dense.ppl')} | — | — | — |")
    lines.append(f"| SparseGPT 50% → 4-bit → coded | {ppl('dense.ppl')} | {ppl('sparsegpt.ppl')} | {ppl('sparsegpt.rtn4')} | "
                 f"{ppl('sparsegpt.q4_0')} (Q4_0) |")
    for r, name in zip(ROWS, ("random FFN rows 20% → Q4_K_M → coded", "contribution FFN rows 20% → Q4_K_M → coded")):
        lines.append(f"| {name} | {ppl('dense.ppl')} | {ppl(r + '.ppl')} | {ppl(r + '.rtn4')} | {ppl(r + '.q4_k_m')} (Q4_K_M) |")
    missing = [s for s in STEPS if s not in cells]
    if missing:
        lines += ["", f"Not measured yet (no cell): {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--windows", type=int, default=40)
    ap.add_argument("--cells", default=os.path.join(ROOT, "docs", "results", "compression-pipeline"))
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "compression-work"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "results", "compression-pipeline.md"))
    ap.add_argument("--cached", action="store_true")
    ap.add_argument("--only", default="", help="run only the steps whose name contains this")
    args = ap.parse_args()
    os.makedirs(args.cells, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)

    def cell(step):
        return os.path.join(args.cells, (step.replace(":", "-") if step in NO_PPL or step.startswith("zip:") else f"{step}-w{args.windows}") + ".json")

    cells = {}
    for step in STEPS + ["zip:" + s for s in FILES]:
        if os.path.exists(cell(step)):
            cells[step] = json.load(open(cell(step)))
    if not args.cached:
        f32 = os.path.join(work, "smollm2-f32.gguf")
        if not os.path.exists(f32):
            compression.llama_quantize(compression.MODEL, f32, 0, requantize=True)
        def zip_file(step):
            path = os.path.join(work, FILES.get(step, ""))
            if step in FILES and "zip:" + step not in cells and os.path.isfile(path):
                cells["zip:" + step] = compressors(path)
                json.dump(cells["zip:" + step], open(cell("zip:" + step), "w"), indent=1)
                print(f"zip:{step}: {cells['zip:' + step]}", file=sys.stderr)

        for step in STEPS:
            if step in cells or (args.only and args.only not in step):
                continue
            base = step.split(".")[0]
            if base != step and base != "dense" and not os.path.exists(os.path.join(work, ("sparsegpt50" if base == "sparsegpt" else base + "20") + ".gguf")):
                # the pruned model's file is gone (a new work folder): prune again
                cells.pop(base, None)
                cells[base] = run_step(args.binary, work, args.windows, base)
                json.dump(cells[base], open(cell(base), "w"), indent=1)
            if step == "dense.ppl":
                # the Compression section measures the same F32 model at the same windows: reuse its number
                f = os.path.join(ROOT, "docs", "results", "compression", f"F32-w{args.windows}.json")
                if os.path.exists(f):
                    cells[step] = dict(ppl=json.load(open(f))["ppl"], source="docs/results/compression/" + os.path.basename(f))
                    json.dump(cells[step], open(cell(step), "w"), indent=1)
                    continue
            cells[step] = run_step(args.binary, work, args.windows, step)
            json.dump(cells[step], open(cell(step), "w"), indent=1)
            print(f"{step}: {cells[step]}", file=sys.stderr)
        # the general-purpose compressors last: they take minutes and measure nothing of the model
        for step in FILES:
            zip_file(step)
    dense_params = cells.get("dense", {}).get("dense_bytes", 0) / 4
    text = page(cells, args.windows, dense_params)
    open(args.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
