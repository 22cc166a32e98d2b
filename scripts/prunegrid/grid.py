"""Runs a grid: every cell not yet in the cells folder becomes one Dask task (or, on the serial path,
one run in this process, in order); the rows of all cells come back in grid order."""
from __future__ import annotations

import os
import sys
import uuid

import cloudpickle

from . import cells as cellmod
from .progress import Progress
from .task import run_cell

import prunegrid as _package

cloudpickle.register_pickle_by_value(_package)


class _ByValue:
    """A task function that travels as its code (cloudpickle by value), so the scheduler and the
    workers need only dask installed, not this package on their PYTHONPATH: it pickles as a call of
    cloudpickle.loads, which every Dask host has."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)

    def __reduce__(self):
        return cloudpickle.loads, (cloudpickle.dumps(self.fn),)


_run_cell = _ByValue(run_cell)


def specs(cells, script, binary, cells_dir, cwd, keep="", blas_threads=1, concurrent=1, grid_id=None,
          stale_after=60.0):
    grid_id = grid_id or uuid.uuid4().hex
    return [{"name": c.name, "args": list(c.args), "header": c.header, "script": script, "bin": binary,
             "cwd": cwd, "cells": cells_dir, "keep": keep, "grid": grid_id, "blas_threads": blas_threads,
             "concurrent": concurrent, "stale_after": stale_after} for c in cells]


def run(specs_: list[dict], client=None, retries: int = 3, label: str = "prunegrid", cached_only=False,
        announce=None, out=sys.stderr) -> list[str | None]:
    """The rows of each cell (None for a cell left out under CACHED_ONLY). CLIENT None: the serial path.
    ANNOUNCE(spec) is called for each cell about to be computed (scripts/results prints its name)."""
    rows: dict[str, str | None] = {}
    todo = []
    for s in specs_:
        path = cellmod.cell_file(s["cells"], s["name"])
        if cellmod.finished(path):
            with open(path) as f:
                rows[s["name"]] = cellmod.rows(f.read())
        elif cached_only:
            rows[s["name"]] = None
        else:
            todo.append(s)
    if todo:
        os.makedirs(todo[0]["cells"], exist_ok=True)
        progress = Progress(len(specs_), len(specs_) - len(todo), label, out)
        print("%s: %d of %d cells to compute (%s)" % (label, len(todo), len(specs_),
              "serially" if client is None else "%d at once on Dask" % todo[0]["concurrent"]), file=out, flush=True)
        for s in todo:
            if announce:
                announce(s)
        if client is None:
            for s in todo:
                r = run_cell(s)
                rows[s["name"]] = r["rows"]
                progress.report(r)
        else:
            from distributed import as_completed
            futures = [client.submit(_run_cell, s, key="cell-%s-%s" % (s["name"], s["grid"]), pure=False,
                                     retries=retries) for s in todo]
            pending = {f.key: f for f in futures}
            # Each future is let go once its rows are here, so a worker that dies later does not make the
            # scheduler run a finished cell's task again to restore a result nobody needs.
            done = as_completed(futures)
            del futures
            try:
                for fut in done:
                    r = fut.result()
                    rows[r["name"]] = r["rows"]
                    progress.report(r)
                    pending.pop(fut.key).release()
                    del fut
            except BaseException:
                client.cancel(list(pending.values()))
                raise
    return [rows[s["name"]] for s in specs_]
