"""The command line: python -m prunegrid SCRIPT [VALUES ...] --cells DIR [options]."""
from __future__ import annotations

import argparse
import os
import pathlib
import sys

from . import cells as cellmod
from . import clusters, grid
from .task import CellFailed

ROOT = pathlib.Path(__file__).resolve().parents[2]

USAGE = """Runs a grid of PruneLang runs on Dask and prints (or writes with --out) their rows in grid order.

The grid is the product of one list of values per argument position, given after SCRIPT: each VALUES is
one position's values separated by spaces (`prunegrid s.prune "ratio" "10 20 30" "0 1 2"` is 9 cells,
each `prunelang run s.prune ratio R S`), named by --name (default: the arguments joined by '-').
Or --list FILE: one cell a line, NAME<tab>ARGS[<tab>HEADER] (HEADER: the cell file's first line, with
{seconds}, {cores} and {date} filled in).

Each cell's rows are kept in --cells as NAME.md, written atomically; a cell with a file is never
computed again; a cell claimed by another grid (NAME.md.claim) is waited for, not computed twice.
Where: a local cluster (default: --jobs workers, one per core, one thread and one OpenBLAS thread each,
dashboard address printed), --scheduler tcp://HOST:PORT (workers started with `dask worker`; the cells
folder and the prunelang binary at the same paths on every host), --slurm (dask-jobqueue), or --serial.
prunelang: PRUNELANG_BIN, else .build/release/prunelang."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prunegrid", description=USAGE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("script", help="the PruneLang script each cell runs")
    p.add_argument("values", nargs="*", help="one argument position's values, separated by spaces")
    p.add_argument("--cells", required=True, help="folder of the cells' files (shared by every host)")
    p.add_argument("--list", help="cells one a line: NAME<tab>ARGS[<tab>HEADER] ('-': standard input)")
    p.add_argument("--name", help="cell name template for the product grid: {0}, {1}, ... are the arguments")
    p.add_argument("--keep", default="", help="keep only the printed lines that start with this")
    p.add_argument("--out", help="write the rows here (atomically) instead of standard output")
    p.add_argument("--cached", action="store_true", help="compute nothing; leave out cells not computed")
    p.add_argument("--label", default="prunegrid", help="prefix of the progress lines")
    p.add_argument("--announce", action="store_true",
                   help="print 'LABEL: computing CELLS/NAME.md' for each cell about to be computed")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--serial", action="store_true", help="no Dask: one cell after another in this process, "
                       "each prunelang with the machine's default OpenBLAS threads")
    where.add_argument("--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT")
    where.add_argument("--slurm", action="store_true", help="a Slurm cluster through dask-jobqueue")
    p.add_argument("--jobs", type=int, default=0, help="local cluster's workers (default: one per core)")
    p.add_argument("--dashboard", default=":8787", help="local cluster's dashboard address (default :8787)")
    p.add_argument("--retries", type=int, default=3, help="Dask retries of a failed cell (default 3)")
    p.add_argument("--stale-after", type=float, default=60.0,
                   help="seconds after which a claim not touched is taken as its owner's death (default 60)")
    p.add_argument("--wait-workers", type=int, default=1, help="--scheduler/--slurm: wait for this many workers")
    p.add_argument("--slurm-queue", help="Slurm partition")
    p.add_argument("--slurm-account", help="Slurm account")
    p.add_argument("--slurm-cores", type=int, default=1, help="cores (= cells at once) per Slurm job (default 1)")
    p.add_argument("--slurm-memory", default="4GB", help="memory per Slurm job (default 4GB)")
    p.add_argument("--slurm-walltime", default="04:00:00", help="wall time per Slurm job (default 04:00:00)")
    p.add_argument("--slurm-jobs", type=int, default=1, help="Slurm jobs to start (default 1)")
    return p


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    if a.list:
        text = sys.stdin.read() if a.list == "-" else pathlib.Path(a.list).read_text()
        cell_list = cellmod.read_list(text)
    else:
        cell_list = cellmod.product([v.split() for v in a.values], a.name)
    binary = os.path.abspath(os.environ.get("PRUNELANG_BIN") or ROOT / ".build" / "release" / "prunelang")
    cells_dir = os.path.abspath(a.cells)
    todo = [c for c in cell_list if not cellmod.finished(cellmod.cell_file(cells_dir, c.name))]
    client = None
    concurrent, blas = 1, 0
    try:
        if todo and not a.cached and not a.serial:
            if a.scheduler:
                client, concurrent = clusters.scheduler(a.scheduler, a.wait_workers)
                what = "Dask scheduler %s, %d worker threads" % (a.scheduler, concurrent)
            elif a.slurm:
                client, concurrent = clusters.slurm(jobs=a.slurm_jobs, wait_for=a.wait_workers, queue=a.slurm_queue,
                                                    account=a.slurm_account, cores=a.slurm_cores,
                                                    memory=a.slurm_memory, walltime=a.slurm_walltime)
                what = "Slurm cluster of %d jobs x %d workers" % (a.slurm_jobs, a.slurm_cores)
            else:
                client, concurrent = clusters.local(a.jobs or None, a.dashboard)
                what = "local cluster of %d workers" % concurrent
            print("%s: %s, dashboard %s" % (a.label, what, client.dashboard_link or "none"), file=sys.stderr, flush=True)
            blas = 1
        specs = grid.specs(cell_list, os.path.abspath(a.script), binary, cells_dir, os.getcwd(), keep=a.keep,
                           blas_threads=blas, concurrent=concurrent, stale_after=a.stale_after)
        announce = None
        if a.announce:
            announce = lambda s: print("%s: computing %s" % (a.label, os.path.join(a.cells, s["name"] + ".md")),
                                       file=sys.stderr, flush=True)
        try:
            rows = grid.run(specs, client, retries=a.retries, label=a.label, cached_only=a.cached, announce=announce)
        except Exception as e:
            # From a Dask worker the class is a copy sent by value: matched by name.
            if not isinstance(e, CellFailed) and type(e).__name__ != "CellFailed":
                raise
            print("%s: %s" % (a.label, e), file=sys.stderr)
            return 1
    finally:
        if client is not None:
            client.close()
    for c, r in zip(cell_list, rows):
        if r is None:
            print("%s: %s not computed, left out (--cached)" % (a.label, c.name), file=sys.stderr)
    doc = "".join(r for r in rows if r)
    if a.out:
        cellmod.write_atomically(a.out, doc)
    else:
        sys.stdout.write(doc)
    return 0
