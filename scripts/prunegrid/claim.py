"""Claims on cells, so that two grids sharing a cells folder never compute the same cell at once, on one
host or many.

A claim is the directory CELL.md.claim, made with mkdir (which succeeds for exactly one caller), holding
owner.json (the grid's id, host, process, Dask worker, time). While the cell runs, a thread touches
owner.json every `heartbeat` seconds. A claim whose owner.json (or, before it is written, the directory)
has not been touched for `stale_after` seconds belongs to a process that died; it is broken by renaming
the directory to a unique name (one rename wins) and removing it, and the cell is claimed anew. A claim
held by the same grid id is a Dask retry of the same cell after its worker died (Dask runs a task at
most once at a time), so it is taken over at once.

What this assumes of the folder: every host sees it at the same path, with atomic mkdir and rename (local
disks, NFSv3/v4, Lustre, GPFS, CephFS do), and the hosts' clocks agree to well within `stale_after`
(mtimes may be set by a file server's clock and are compared with the local one).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid


class Claim:
    def __init__(self, cell_path: str, grid: str, worker: str = "", stale_after: float = 60.0,
                 heartbeat: float = 5.0):
        self.dir = cell_path + ".claim"
        self.owner_file = os.path.join(self.dir, "owner.json")
        self.grid = grid
        self.worker = worker
        self.stale_after = stale_after
        self.heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def owner(self) -> dict | None:
        try:
            with open(self.owner_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def age(self) -> float | None:
        """Seconds since the claim was last touched; None when there is no claim."""
        for path in (self.owner_file, self.dir):
            try:
                return time.time() - os.stat(path).st_mtime
            except OSError:
                continue
        return None

    def _write_owner(self) -> None:
        info = {"grid": self.grid, "host": socket.gethostname(), "pid": os.getpid(),
                "worker": self.worker, "since": time.time()}
        tmp = os.path.join(self.dir, "owner.%s.tmp" % uuid.uuid4().hex)
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.replace(tmp, self.owner_file)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                os.utime(self.owner_file)
            except OSError:
                pass

    def _hold(self) -> bool:
        self._write_owner()
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        return True

    def acquire(self) -> bool:
        """True when this caller now holds the claim; False when another live grid holds it."""
        for _ in range(3):
            try:
                os.mkdir(self.dir)
                return self._hold()
            except FileExistsError:
                pass
            owner = self.owner()
            if owner is not None and owner.get("grid") == self.grid:
                return self._hold()
            age = self.age()
            if age is None:
                continue   # released between the mkdir and the look: try again
            if age < self.stale_after:
                return False
            # Stale: its owner died. One rename wins; the others find the claim gone or new.
            broken = "%s.stale-%s" % (self.dir, uuid.uuid4().hex)
            try:
                os.rename(self.dir, broken)
                shutil.rmtree(broken, ignore_errors=True)
            except OSError:
                pass
        return False

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        owner = self.owner()
        if owner is None or owner.get("grid") == self.grid:
            shutil.rmtree(self.dir, ignore_errors=True)
