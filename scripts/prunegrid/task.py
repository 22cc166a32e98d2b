"""The task one worker runs for one cell: unless the cell's file already exists, claim the cell, run
`prunelang run SCRIPT ARGS...`, write its rows (after the header, if any) atomically into the cells
folder, release the claim, and return the rows. A cell claimed by another grid is waited for and its
rows returned once that grid has written them (or computed here if that grid dies)."""
from __future__ import annotations

import ctypes
import datetime
import os
import signal
import socket
import subprocess
import time

# Functions and classes, not modules: grid.py has cloudpickle send this package's code by value, so a
# worker needs only dask installed, not this package (a module would be sent as an import).
from .cells import cell_file, finished, rows, write_atomically
from .claim import Claim


class CellFailed(RuntimeError):
    pass


def _die_with_parent() -> None:
    # Linux: the run is killed when the worker that started it dies, so a killed worker leaves no
    # prunelang computing for nobody (PR_SET_PDEATHSIG = 1).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _worker_address() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "local:%s:%d" % (socket.gethostname(), os.getpid())


def cores_note(blas_threads: int, concurrent: int) -> str:
    """How the header describes the machine a cell ran on (scripts/results' wording)."""
    try:
        cpus = len(os.sched_getaffinity(0))   # what nproc says
    except AttributeError:
        cpus = os.cpu_count() or 1
    if blas_threads == 0:
        return "%d cores" % cpus
    if concurrent > 1:
        return "%d of %d cores, %d cells at once" % (blas_threads, cpus, concurrent)
    return "%d of %d cores" % (blas_threads, cpus)


def run_cell(spec: dict) -> dict:
    """SPEC: name, args, header, script, bin, cwd, cells, keep, grid, blas_threads (0: the machine's
    default), concurrent, stale_after, poll. Returns name, rows, how ('computed', 'cached' or
    'other grid'), worker, seconds."""
    path = cell_file(spec["cells"], spec["name"])
    worker = _worker_address()
    result = {"name": spec["name"], "worker": worker, "seconds": 0.0}

    def cached(how):
        with open(path) as f:
            return dict(result, rows=rows(f.read()), how=how)

    if finished(path):
        return cached("cached")
    claim = Claim(path, spec["grid"], worker, stale_after=spec.get("stale_after", 60.0))
    waited = False
    while not claim.acquire():
        waited = True
        if finished(path):
            return cached("other grid")
        time.sleep(spec.get("poll", 1.0))
    try:
        if finished(path):   # finished between the first look and the claim
            return cached("other grid" if waited else "cached")
        env = dict(os.environ)
        if spec.get("blas_threads"):
            env["OPENBLAS_NUM_THREADS"] = str(spec["blas_threads"])
        start = time.time()
        proc = subprocess.run([spec["bin"], "run", spec["script"], *spec["args"]], cwd=spec["cwd"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=_die_with_parent)
        end = time.time()
        if proc.returncode != 0:
            raise CellFailed("cell %s: prunelang exited %d: %s" % (spec["name"], proc.returncode,
                                                                    proc.stderr[-2000:]))
        out = proc.stdout
        if spec.get("keep"):
            out = "".join(l for l in out.splitlines(keepends=True) if l.startswith(spec["keep"]))
        text = out
        if spec.get("header"):
            header = (spec["header"].replace("{seconds}", str(int(end) - int(start)))
                      .replace("{cores}", cores_note(spec.get("blas_threads", 0), spec.get("concurrent", 1)))
                      .replace("{date}", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")))
            text = header + "\n" + out
        write_atomically(path, text)
        return dict(result, rows=rows(text), how="computed", seconds=end - start)
    finally:
        claim.release()
