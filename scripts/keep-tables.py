#!/usr/bin/env python3
"""The two tables of docs/RESULTS.md's "What to keep" section, built from the committed rows.

Perplexity (WikiText-2, 40 windows of 512) and zero-shot mean accuracy (five tasks, 500 examples
each) of the row methods at 5-40% on SmolLM2-135M. The rows come from two runs:
- the main grid (scripts/results): docs/results/ratio-r{R}-w40-s5-e20.md for perplexity and
  docs/results/zeroshot-n500-r{R}-s{S}-e20.md for accuracy (random rows, magnitude rows and
  PruneNet without protection);
- scripts/keep.prune: docs/results/keep-rows-w40-s5.md, keep-prunenet-w40-s5.md and
  keep-zeroshot-n500.md (protection, contribution rows).
Prints both tables as Markdown; Tests/python/test_keep_tables.py checks RESULTS holds them as
printed, so a rerun of either grid that changes a number shows up there.
Usage: scripts/keep-tables.py [RESULTS_DIR]   (default docs/results)
"""
import pathlib
import statistics
import sys

RATIOS = [5, 10, 20, 25, 30, 40]
SEEDS = 5


def rows(path):
    """The Markdown table rows of a results file as lists of cells (comments, headers and rules skipped)."""
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= set("|-"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "method":
            continue
        out.append(cells)
    return out


def number(text):
    """A printed number as a float ("4146.8", "34")."""
    return float(text.replace(",", ""))


def pct(x):
    """An accuracy in percent with one decimal ("43.0")."""
    return f"{x:.1f}"


class Grid:
    """Every cell the two tables draw on, keyed by (method label, ratio %)."""

    def __init__(self, folder):
        self.ppl = {}
        self.acc = {}
        for r in RATIOS:
            for cells in rows(folder / f"ratio-r{r}-w40-s5-e20.md"):
                self.ppl[(cells[0], r)] = cells[2]
            for s in range(SEEDS):
                for cells in rows(folder / f"zeroshot-n500-r{r}-s{s}-e20.md"):
                    name = cells[0].rsplit(" ", 1)[0]
                    self.acc.setdefault((name, r), []).append(number(cells[-1]))
        for name in ["keep-rows-w40-s5.md", "keep-prunenet-w40-s5.md"]:
            for cells in rows(folder / name):
                r = int(cells[1].rstrip("%"))
                median, spread = cells[2], cells[3]
                # The main grid's cells stand where keep.prune reran one (PruneNet unprotected).
                self.ppl.setdefault((cells[0], r), median if spread in ("—", "–") else f"{median} ({spread})")
        for cells in rows(folder / "keep-zeroshot-n500.md"):
            self.acc[(cells[0], int(cells[1].rstrip("%")))] = [number(cells[-1])]

    def perplexity(self, method, r, bold=False):
        v = self.ppl.get((method, r))
        if v is None:
            return "–"
        return f"**{v}**" if bold else v

    def accuracy(self, method, r, bold=False):
        xs = self.acc.get((method, r))
        if not xs:
            return "–"
        if len(xs) == 1:
            return f"**{pct(xs[0])}**" if bold else pct(xs[0])
        return f"{pct(statistics.median(xs))} ({pct(min(xs))}–{pct(max(xs))})"


def table(columns, cell):
    """A Markdown table with a row per ratio; `columns` are (heading, method label, bold) and
    `cell(method, ratio, bold)` prints one cell."""
    lines = ["| ratio | " + " | ".join(c[0] for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for r in RATIOS:
        lines.append(f"| {r}% | " + " | ".join(cell(m, r, b) for _, m, b in columns) + " |")
    return "\n".join(lines)


def perplexity_table(g):
    return table([
        ("random rows", "random rows", False),
        ("random rows, protected", "random-rows, protect=super_weights", False),
        ("magnitude rows", "magnitude rows", False),
        ("magnitude rows, protected", "magnitude-rows, protect=super_weights", False),
        ("PruneNet (sampled)", "PruneNet (paper, sampled)", False),
        ("PruneNet, protected", "PruneNet (paper, sampled), protect=super_weights", False),
        ("contribution rows (prompt)", "contribution-rows (prompt)", True),
        ("contribution rows (weights)", "contribution-rows (weights)", False),
    ], g.perplexity)


def accuracy_table(g):
    return table([
        ("contribution rows (prompt)", "contribution-rows (prompt)", True),
        ("random rows (median, range)", "random rows", False),
        ("PruneNet sampled (median, range)", "PruneNet (paper, sampled)", False),
        ("magnitude rows", "magnitude rows", False),
    ], g.accuracy)


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/results")
    g = Grid(folder)
    print(perplexity_table(g))
    print()
    print(accuracy_table(g))


if __name__ == "__main__":
    main()
