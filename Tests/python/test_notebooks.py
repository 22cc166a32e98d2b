"""Every notebook in notebooks/ executes top to bottom under nbclient with the PruneLang kernel (the
kernelspec conftest.py installs into a temporary prefix), lecture 1's outputs are the real ones:
the model summary, SVG figures, a KS distance, perplexities and the saved model's widths; the
small-network lecture's studies come back as figures and tables; and every notebook is committed with
the outputs of a full run."""
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import BIN, ROOT
from notebook_params import apply_ci_parameters

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.skipif(not BIN.exists(), reason="needs the release build (.build/release/prunelang)")


def outputs_of(cell):
    return cell.get("outputs", [])


def result(cell):
    """The cell's execute_result as text."""
    return "".join(o["data"]["text/plain"] for o in outputs_of(cell) if o["output_type"] == "execute_result")


def texts(cell):
    out = []
    for o in outputs_of(cell):
        if o["output_type"] == "stream":
            out.append(o["text"])
        elif "data" in o:
            out.append(o["data"].get("text/plain", ""))
    return "".join(out)


@pytest.fixture(scope="module")
def executed():
    """Each notebook, executed once for this module, with its parameters cells' shrunk CI variants."""
    done = {}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        apply_ci_parameters(nb)
        NotebookClient(nb, kernel_name="prunelang", timeout=900, resources={"metadata": {"path": str(ROOT)}}).execute()
        done[path.name] = nb
    return done


def test_there_are_notebooks_and_they_name_the_kernel():
    assert NOTEBOOKS, "notebooks/ holds .ipynb lectures"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "prunelang"
        assert not list(path.parent.glob(path.stem + ".prune")), "one source per lecture: the .ipynb"


@pytest.mark.skipif(not (ROOT / "models" / "smollm2-135m").exists(), reason="needs scripts/fetch-models")
def test_every_notebook_runs_without_errors(executed):
    for name, nb in executed.items():
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{name}: every code cell ran"
        errors = [o for c in code for o in outputs_of(c) if o["output_type"] == "error"]
        assert not errors, f"{name}: {errors}"


@pytest.mark.skipif(not (ROOT / "models" / "smollm2-135m").exists(), reason="needs scripts/fetch-models")
def test_lecture_one_outputs(executed):
    nb = executed["01-weights-and-spectra.ipynb"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = lambda s: next(c for c in code if s in c.source)
    # The model summary: parameters by role.
    assert "134515008" in texts(by_source('m = load("smollm2-135m")')).replace(",", "").replace(" ", "")
    # Figures are SVG with a text fallback.
    svgs = [o for c in code for o in outputs_of(c) if "data" in o and "image/svg+xml" in o["data"]]
    assert len(svgs) >= 2 and all(o["data"]["image/svg+xml"].lstrip().startswith("<svg") for o in svgs)
    assert all(o["data"]["text/plain"] for o in svgs)
    # Layer 12's up-projection and its KS distance after dropping 30% of rows.
    assert "[1536, 576]" in texts(by_source("up = m.layers[12].ffn.up"))
    ks = float(re.search(r"statistic: ([0-9.e-]+)", texts(by_source("ks(s, dropped)"))).group(1))
    assert 0 < ks < 1
    # Dense perplexity on 2 WikiText-2 windows: a real number in the range SmolLM2-135M gives.
    cell = by_source("dense = ppl(")
    dense = float(result(cell))
    assert 5 < dense < 100
    # Its progress bar was updated in place: the display left in the notebook is the finished one.
    bars = [o for o in outputs_of(cell) if o["output_type"] == "display_data"]
    assert len(bars) == 1 and "2/2" in bars[0]["data"]["text/plain"]
    table = [o for o in outputs_of(by_source("table([")) if o["output_type"] == "execute_result"][0]["data"]
    assert "<table" in table["text/html"] and "magnitude rows 10%" in table["text/plain"]
    assert texts(code[-1]).strip()  # the reloaded model's first FFN width


@pytest.mark.skipif(not (ROOT / "models" / "digits").exists(), reason="needs scripts/fetch-models")
def test_small_networks_lecture_outputs(executed):
    nb = executed["02-small-networks.ipynb"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = lambda s: next(c for c in code if s in c.source)
    # LeNet-300-100 learns the digits.
    assert float(result(by_source("net = train(mlp([64, 300, 100, 10]"))) > 0.9
    # Pruning to 90% keeps the sparsity through retraining.
    sparsity, acc = (float(x) for x in result(by_source("r = train(p, d")).strip("[]").split(","))
    assert abs(sparsity - 0.9) < 1e-9 and acc > 0.8
    # Each study shows an SVG figure with its series and an HTML summary table.
    for source, series in [("sweep = sparsity_sweep", ["one-shot", "iterative"]),
                           ("tickets = lottery", ["winning ticket", "rewind 20", "random reinit", "random mask"]),
                           ("ds = distill_study", ["soft (10% of the data)", "hard (10% of the data)", "teacher"]),
                           ("ss = structure_study", ["structured", "unstructured"])]:
        shown = [o for o in outputs_of(by_source(source)) if o["output_type"] == "execute_result"][0]["data"]
        assert "<svg" in shown["text/html"] and "<table" in shown["text/html"], source
        for name in series:
            assert name in shown["text/plain"], (source, name)


def test_notebooks_are_committed_with_the_outputs_of_a_run():
    """A reader who only opens the file sees every figure and table: each code cell of a committed
    lecture carries an execution count and, unless it only binds names, outputs."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.get("execution_count") for c in code), f"{path.name}: every code cell was run"
        shown = [c for c in code if c.get("outputs")]
        assert len(shown) >= len(code) - 2, f"{path.name}: cells without outputs"
