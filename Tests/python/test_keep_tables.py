"""docs/RESULTS.md's "What to keep" tables are the committed grid rows, as `scripts/keep-tables.py`
prints them: a rerun of the main grid or of scripts/keep.prune that changes a number, or a table
edited by hand, fails here. Also that the script reads what it claims (a changed row changes it)."""
import pathlib, shutil, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "keep-tables.py"


def tables(folder):
    r = subprocess.run([sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    return [t.strip() for t in r.stdout.split("\n\n") if t.strip()]


def test_results_hold_the_tables_the_rows_give():
    doc = (ROOT / "docs" / "RESULTS.md").read_text()
    printed = tables(ROOT / "docs" / "results")
    assert len(printed) == 2
    ppl, acc = printed
    assert ppl.count("\n") == 7 and acc.count("\n") == 7, "a header, a rule and six ratios each"
    assert "| 20% | 199.3 (138.9–246.8) |" in ppl, "random rows at 20%: the main grid's median and range"
    for table in printed:
        assert table in doc, "docs/RESULTS.md differs from scripts/keep-tables.py's output:\n" + table


def test_a_changed_row_changes_the_table(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(ROOT / "docs" / "results", folder)
    rows = folder / "keep-rows-w40-s5.md"
    rows.write_text(rows.read_text().replace("| contribution-rows (prompt) | 20% | 58.9 |",
                                             "| contribution-rows (prompt) | 20% | 61.3 |"))
    ppl = tables(folder)[0]
    assert "**61.3**" in ppl and "**58.9**" not in ppl
