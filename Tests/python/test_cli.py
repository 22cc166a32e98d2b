"""The `prunelang` executable as a user runs it: -e prints the last value as plain text and exits 0;
a typo exits non-zero with file:line:col and a caret; `run` executes a script's #%% cells in order,
shows each cell's value, passes `args`, and stops at the first error with its location."""
import pathlib, subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / ".build" / "release" / "prunelang"


def run(*args, cwd=ROOT):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_eval_prints_plain_values():
    r = run("-e", "x = 2\nx * 21")
    assert r.returncode == 0 and r.stdout.strip() == "42"
    r = run("-e", "svdvals(matrix([[3, 0], [0, 4]]))")
    assert r.stdout.strip() == "[4, 3]"


def test_errors_name_the_place_and_exit_nonzero():
    r = run("-e", "y = 1\nsvdvals(z)")
    assert r.returncode == 1
    assert "<-e>:2:9" in r.stderr and "^" in r.stderr and "'z'" in r.stderr


def test_run_shows_cells_and_passes_args(tmp_path):
    script = tmp_path / "s.prune"
    script.write_text("a = number(args[0])\na\n#%%\nprint(\"second\")\na * 2\n#%%\nnope(1)\n#%%\nprint(\"never\")\n")
    r = run("run", str(script), "5")
    assert r.returncode == 1
    assert r.stdout.split() == ["5", "second", "10"]
    assert f"{script}:7:1" in r.stderr and "never" not in r.stdout
