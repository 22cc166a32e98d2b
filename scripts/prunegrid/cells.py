"""What a cell is: a name (its file is CELLS/NAME.md), the arguments given to the PruneLang script, and
an optional header template written as the file's first line. Also: building grids (the product of one
list of values per argument position, or a list file) and reading a finished cell's rows."""
from __future__ import annotations

import dataclasses
import itertools
import os
import uuid


@dataclasses.dataclass(frozen=True)
class Cell:
    name: str
    args: tuple[str, ...]
    header: str = ""


def cell_file(cells: str, name: str) -> str:
    return os.path.join(cells, name + ".md")


def product(axes: list[list[str]], name_template: str | None = None) -> list[Cell]:
    """The cells of a grid given as one list of values per argument position, in order (the last
    position varies fastest). The name is NAME_TEMPLATE with {0}, {1}, ... replaced by the arguments,
    or the arguments joined by '-'."""
    cells = []
    for args in itertools.product(*axes):
        if name_template is None:
            name = "-".join(args)
        else:
            name = name_template
            for i, a in enumerate(args):
                name = name.replace("{%d}" % i, a)
        cells.append(Cell(name, tuple(args)))
    return cells


def read_list(text: str) -> list[Cell]:
    """Cells from a list, one a line: NAME <tab> ARGS separated by spaces [<tab> HEADER]. Blank lines
    and lines starting with '#' are skipped."""
    cells = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError("a cell line needs NAME<tab>ARGS: %r" % line)
        cells.append(Cell(parts[0], tuple(parts[1].split()), parts[2] if len(parts) > 2 else ""))
    names = [c.name for c in cells]
    if len(set(names)) != len(names):
        raise ValueError("two cells share a name")
    return cells


def rows(text: str) -> str:
    """A cell file's rows: everything but its header comments (lines starting with '<!--')."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("<!--"))


def finished(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def write_atomically(path: str, text: str) -> None:
    """Writes TEXT to PATH through a uniquely named temporary file in the same folder and a rename,
    so a reader (on any host sharing the folder) sees the whole file or none."""
    tmp = "%s.%s.tmp" % (path, uuid.uuid4().hex)
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
