"""Shared set-up of the Python tests: the PruneLang kernelspec is installed into a temporary prefix
(never the user's Jupyter folders) and put first on JUPYTER_PATH, and the kernel's history goes to a
temporary file, so kernels started by jupyter_client, jupyter_kernel_test and nbclient are this
build's and leave nothing behind."""
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
# PRUNELANG_BIN runs the tests against another build (a debug build, a helper's scratch path).
BIN = pathlib.Path(os.environ.get("PRUNELANG_BIN") or ROOT / ".build" / "release" / "prunelang")
_TMP = tempfile.TemporaryDirectory(prefix="prunelang-jupyter-")
PREFIX = pathlib.Path(_TMP.name)


def pytest_configure(config):
    os.environ["JUPYTER_PATH"] = str(PREFIX / "share" / "jupyter")
    os.environ["PRUNELANG_KERNEL_HISTORY"] = str(PREFIX / "kernel-history.jsonl")
    # Keep jupyter_client from writing runtime files (connection files) into ~/.local.
    os.environ["JUPYTER_RUNTIME_DIR"] = str(PREFIX / "runtime")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    if BIN.exists():
        subprocess.run([str(BIN), "install-kernel", "--prefix", str(PREFIX)], check=True,
                       capture_output=True, text=True, timeout=60)


def pytest_unconfigure(config):
    _TMP.cleanup()
