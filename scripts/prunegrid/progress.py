"""The line printed per finished cell: done/total, the cell, where and how it ran, and the time left
(estimated from the cells computed so far in this run: their rate, times the cells still to do)."""
from __future__ import annotations

import sys
import time


def duration(seconds: float) -> str:
    if seconds < 10:
        return "%.1f s" % seconds
    s = int(round(seconds))
    if s < 60:
        return "%d s" % s
    if s < 3600:
        return "%d min %02d s" % (s // 60, s % 60)
    return "%d h %02d min" % (s // 3600, s % 3600 // 60)


class Progress:
    def __init__(self, total: int, already: int, label: str = "prunegrid", out=sys.stderr):
        self.total = total
        self.done = already
        self.computed = 0
        self.label = label
        self.out = out
        self.start = time.time()

    def line(self, result: dict) -> str:
        self.done += 1
        if result["how"] != "cached":
            self.computed += 1
        left = self.total - self.done
        if left == 0:
            eta = "done"
        elif self.computed:
            eta = "about %s left" % duration((time.time() - self.start) / self.computed * left)
        else:
            eta = "time left unknown"
        return "%s: %d/%d %s %s on %s (%s); %s" % (
            self.label, self.done, self.total, result["name"], result["how"], result["worker"],
            duration(result["seconds"]), eta)

    def report(self, result: dict) -> None:
        print(self.line(result), file=self.out, flush=True)
