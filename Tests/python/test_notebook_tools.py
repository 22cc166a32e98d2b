"""scripts/prune-to-ipynb turns a #%% script into a notebook for the PruneLang kernel, and
`prunelang run` runs a notebook's code cells in order as it runs a script; install-kernel writes
a kernelspec naming this binary by its absolute path, with both logos."""
import json
import pathlib
import subprocess
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / ".build" / "release" / "prunelang"
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
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "prune-to-ipynb"), str(src)], capture_output=True, text=True)
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
