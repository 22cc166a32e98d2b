"""The committed numerics fixtures are what their generator scripts produce with the pinned
numpy/scipy/powerlaw today: a stale or hand-edited fixture fails here."""
import json, math, pathlib, subprocess, sys

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"
SCRIPTS = sorted(FIXTURES.glob("make_*_fixtures.py"))


def assert_same(a, b, path="$"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        # LAPACK builds may differ in the last bits; anything beyond that is a real change.
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)), \
            f"{path}: committed {a}, regenerated {b}"
    else:
        assert a == b, f"{path}: committed {a!r}, regenerated {b!r}"


def test_there_are_generators():
    assert SCRIPTS, "no fixture generator scripts found"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_fixtures_are_fresh(script, tmp_path):
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    written = sorted(tmp_path.glob("*.json"))
    assert written, f"{script.name} wrote nothing"
    for fresh in written:
        found = list(FIXTURES.rglob(fresh.name))
        assert len(found) == 1, f"{fresh.name} is not committed (or committed twice)"
        committed = found[0]
        assert_same(json.loads(committed.read_text()), json.loads(fresh.read_text()), fresh.name)
