"""`scripts/results` (the issue's results, docs/RESULTS.md) end to end at a reduced size: one ratio
(20%), one perplexity window, two seeds, two episodes, four zero-shot examples per task, four MiniLM
lines, into a temporary file and cell folder, zero-shot cells two at a time (--jobs 2). Checks the document's structure and that its numbers
are the kind they claim to be; then that `--cached` rebuilds the same document from the cells
without computing anything, and that a cell deleted is left out, not recomputed, under `--cached`."""
import os, pathlib, re, subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / ".build" / "release" / "prunelang"
ARGS = ["--windows", "1", "--seeds", "2", "--episodes", "2", "--extras", "--zeroshot", "4",
        "--zeroshot-ratios", "20", "--zeroshot-seeds", "2", "--zeroshot-topk", "--minilm", "4", "20"]


def results(tmp_path, *extra):
    env = dict(os.environ, PRUNELANG_BIN=str(BIN))
    return subprocess.run([str(ROOT / "scripts" / "results"), *ARGS, "--out", str(tmp_path / "RESULTS.md"),
                           "--cells", str(tmp_path / "cells"), *extra],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


def rows(text, prefix):
    return [line for line in text.splitlines() if line.startswith("| " + prefix)]


def test_reduced_grid_end_to_end(tmp_path):
    r = results(tmp_path, "--jobs", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    # The two workers share the list: every cell computed exactly once, no claim left behind.
    computed = re.findall(r"results: computing (\S+)", r.stderr)
    assert len(computed) == len(set(computed)), computed
    assert len([c for c in computed if "/zeroshot" in c]) == 5, computed
    assert not list((tmp_path / "cells").glob("*.claim"))
    header = (tmp_path / "cells" / "zeroshot-topk-n4-r20-s1-e2.md").read_text().splitlines()[0]
    assert "2 cells at once" in header, header
    doc = (tmp_path / "RESULTS.md").read_text()
    assert "<!-- grid:start" in doc and "<!-- grid:end -->" in doc
    # Perplexity grid: dense and the four methods at 20%, with parameters that shrink.
    dense = rows(doc, "dense | 0%")
    assert len(dense) == 1 and float(dense[0].split("|")[3]) > 1
    for method in ["PruneNet (paper, sampled) | 20%", "PruneNet (paper, top-k) | 20%", "random rows | 20%",
                   "magnitude rows | 20%"]:
        (row,) = rows(doc, method)
        cols = [c.strip() for c in row.split("|")[1:-1]]
        assert float(cols[2].split(" ")[0]) > float(dense[0].split("|")[3]), row   # pruning costs perplexity
        assert int(cols[4]) == 118600128 and cols[5] == "11.8%", row
    # Zero-shot: dense once, the sampled policy and random rows over 2 seeds, magnitude once, top-k 2.
    lines = doc.splitlines()
    start = lines.index("| model | piqa | hellaswag | arc_easy | arc_challenge | winogrande | mean acc | seeds |") + 2
    table = lines[start:lines.index("", start)]
    zs = {line.split(" | ")[0][2:]: line for line in table}
    assert len(zs) == 5, table
    assert zs["dense"].endswith("| 1 |")
    assert zs["PruneNet (paper, sampled) 20%"].endswith("| 2 |")
    assert zs["random rows 20%"].endswith("| 2 |")
    assert zs["magnitude rows 20%"].endswith("| 1 |")
    assert zs["PruneNet (paper, top-k) 20%"].endswith("| 2 |")
    for line in zs.values():
        cols = [c.strip() for c in line.split("|")[2:-2]]
        accs = [float(x) for c in cols[:5] for x in c.split(" / ")]
        # k of 4 examples, or the median of two such: multiples of 12.5
        assert all(0 <= a <= 100 and a / 12.5 == round(a / 12.5) for a in accs), line
    assert len(list((tmp_path / "cells").glob("zeroshot-n4-r20-s*-e2.md"))) == 2
    assert len(list((tmp_path / "cells").glob("zeroshot-topk-n4-r20-s*-e2.md"))) == 2
    # MiniLM: cosine similarities in (0, 1].
    (mini,) = rows(doc, "20% | ")
    sims = [float(x) for x in re.findall(r"\d\.\d+", mini)]
    assert sims and all(0 < s <= 1 for s in sims)

    # --cached: the same document from the cells, nothing computed.
    first = doc
    r = results(tmp_path, "--cached")
    assert r.returncode == 0 and "computing" not in r.stderr, r.stderr[-2000:]
    assert (tmp_path / "RESULTS.md").read_text() == first
    # A missing cell is left out under --cached (and said so), not recomputed.
    (tmp_path / "cells" / "zeroshot-n4-r20-s1-e2.md").unlink()
    r = results(tmp_path, "--cached")
    assert r.returncode == 0 and "not computed, left out" in r.stderr
    doc = (tmp_path / "RESULTS.md").read_text()
    assert [l for l in doc.splitlines() if l.startswith("| random rows 20% |")][0].endswith("| 1 |")
    assert not (tmp_path / "cells" / "zeroshot-n4-r20-s1-e2.md").exists()
