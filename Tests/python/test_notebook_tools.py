"""scripts/prune-to-ipynb turns a #%% script into a notebook for the PruneLang kernel, and
`prunelang run` runs a notebook's code cells in order as it runs a script; install-kernel writes
a kernelspec naming this binary by its absolute path, with both logos."""
import json
import os
import pathlib
import subprocess
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("PRUNELANG_BIN") or ROOT / ".build" / "release" / "prunelang")
CONVERTER_ENV = dict(os.environ, PRUNELANG_BIN=str(BIN))
SCRIPT = """# # A title
# Some words.
x = 1
#%% First step
y = x + 1
y
#%% [markdown]
# ## A heading
# text with `code`
#%%
print("y is", y)
#%%
"""


def test_converter_makes_markdown_and_code_cells(tmp_path):
    src = tmp_path / "lecture.prune"
    src.write_text(SCRIPT)
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "prune-to-ipynb"), str(src)], capture_output=True, text=True,
                       env=CONVERTER_ENV)
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(tmp_path / "lecture.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "prunelang"
    kinds = [(c.cell_type, c.source) for c in nb.cells]
    assert kinds == [
        ("code", "# # A title\n# Some words.\nx = 1"),
        ("markdown", "First step"),
        ("code", "y = x + 1\ny"),
        ("markdown", "## A heading\ntext with `code`"),
        ("code", 'print("y is", y)'),
    ]


# Corners of the #%% rule: a preamble of comments only, a title after the mark (with and without a
# space), an indented mark (a comment), a mark inside a string, blank lines around cells, a markdown
# cell with a line that is not a comment (the old `run` ran it as code), empty cells, a trailing mark
# and no final newline.
TRICKY = """# # Title
#
# words

#%%\t
x = 1
s = "a #%% in a string"
#%%   Step two\t
y = x + 1
   #%% indented: just a comment
y
#%%Step three
z = y * 10

z


#%% [markdown] ignored
# ## Heading
#
text without a hash
#%%
#%%

print("after empty cells", z)
#%% [markdown]
#%%
w = [1,
  2]
w
#%%
nope(w)
#%%"""


def test_run_and_converter_split_cells_the_same_way(tmp_path):
    """`prunelang run` on a script and on the notebook scripts/prune-to-ipynb makes of it run the same
    code cells, with LF or CRLF line ends; diagnostics point at the script's own lines."""
    expected = [
        ("markdown", "# Title\n\nwords"),
        ("code", 'x = 1\ns = "a #%% in a string"'),
        ("markdown", "Step two"),
        ("code", "y = x + 1\n   #%% indented: just a comment\ny"),
        ("markdown", "Step three"),
        ("code", "z = y * 10\n\nz"),
        ("markdown", "## Heading\n\ntext without a hash"),
        ("code", 'print("after empty cells", z)'),
        ("code", "w = [1,\n  2]\nw"),
        ("code", "nope(w)"),
    ]
    outputs = []
    for name, text in [("lf", TRICKY), ("crlf", TRICKY.replace("\n", "\r\n"))]:
        src = tmp_path / f"{name}.prune"
        src.write_bytes(text.encode())
        r = subprocess.run([str(BIN), "cells", str(src)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cells = json.loads(r.stdout)
        assert [(c["kind"], c["source"]) for c in cells] == expected
        assert [c["line"] for c in cells if c["kind"] == "code"] == [6, 9, 13, 25, 28, 32]

        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "prune-to-ipynb"), str(src)], capture_output=True,
                           text=True, env=CONVERTER_ENV)
        assert r.returncode == 0, r.stderr
        notebook = tmp_path / f"{name}.ipynb"
        nb = nbformat.read(notebook, as_version=4)
        assert [(c.cell_type, c.source) for c in nb.cells] == expected

        script_run = subprocess.run([str(BIN), "run", str(src)], capture_output=True, text=True, timeout=60)
        notebook_run = subprocess.run([str(BIN), "run", str(notebook)], capture_output=True, text=True, timeout=60)
        assert script_run.returncode == notebook_run.returncode == 1
        assert "after empty cells 20" in script_run.stdout
        assert script_run.stdout == notebook_run.stdout
        # The last code cell fails: at its line in the script, in its cell in the notebook.
        assert f"{src}:32:1" in script_run.stderr, script_run.stderr
        assert f"{notebook}[cell 10]:1:1" in notebook_run.stderr, notebook_run.stderr
        outputs.append(script_run.stdout)
    assert outputs[0] == outputs[1]


def test_run_executes_notebook_code_cells_in_order(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# not code"), nbformat.v4.new_code_cell("a = 20\na + 1"),
                nbformat.v4.new_code_cell('print("twice:", a * 2)'), nbformat.v4.new_code_cell("missing(1)"),
                nbformat.v4.new_code_cell('print("never")')]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, str(path))
    r = subprocess.run([str(BIN), "run", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stdout.split("\n")[:2] == ["21", "twice: 40"] and "never" not in r.stdout
    assert f"{path}[cell 4]:1:1" in r.stderr
    path.write_text("{not json")
    r = subprocess.run([str(BIN), "run", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not a Jupyter notebook" in r.stderr


def test_install_kernel_writes_the_kernelspec(tmp_path):
    r = subprocess.run([str(BIN), "install-kernel", "--prefix", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "share" / "jupyter" / "kernels" / "prunelang"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][0] == str(BIN.resolve()) and spec["argv"][1:] == ["kernel", "-f", "{connection_file}"]
    assert spec["interrupt_mode"] == "message" and spec["language"] == "prunelang"
    for size in (32, 64):
        png = (folder / f"logo-{size}x{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == size
    r = subprocess.run([str(BIN), "install-kernel", "--user", "--prefix", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode != 0 and "choose one of" in r.stderr
    r = subprocess.run([str(BIN), "install-kernel", "--sys-prefix"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 2 and "no virtual environment" in r.stderr
