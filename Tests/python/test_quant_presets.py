"""PruneLang's llama.cpp presets against llama.cpp itself on SmolLM2-135M: an F32 copy of the model
(llama.cpp's own dequantisation of the Q4_1 file) is quantised by `llama_model_quantize` (no
importance matrix) and by PruneLang's `save(load(copy), path, type=preset)`; every tensor must
get the same ggml type and the same bytes. Skips when the model or llama-cpp-python is missing.
Slow (about a minute per preset on two cores)."""
import subprocess

import numpy as np
import pytest

from conftest import BIN

gguf = pytest.importorskip("gguf")
llama_cpp = pytest.importorskip("llama_cpp")
from llama_reference import SMOLLM as MODEL, llama_quantize

# PruneLang's type= name and llama.cpp's llama_ftype.
PRESETS = [("q8_0", 7), ("q6_k", 18), ("q5_k_m", 17), ("q4_k_m", 15), ("q3_k_m", 12), ("q2_k", 10),
           ("q4_1", 3), ("q5_0", 8), ("q5_1", 9)]

pytestmark = pytest.mark.skipif(not MODEL.exists() or not BIN.exists(), reason="needs SmolLM2 (scripts/fetch-models) and a release build")


@pytest.fixture(scope="module")
def f32_copy(tmp_path_factory):
    path = tmp_path_factory.mktemp("quant") / "smollm2-f32.gguf"
    llama_quantize(MODEL, path, 0, requantize=True)   # LLAMA_FTYPE_ALL_F32
    return path


@pytest.mark.parametrize("preset,ftype", PRESETS, ids=[p for p, _ in PRESETS])
def test_preset_bytes_equal_llama_cpp(f32_copy, tmp_path, preset, ftype):
    theirs_path, ours_path = tmp_path / "llama.gguf", tmp_path / "ours.gguf"
    llama_quantize(f32_copy, theirs_path, ftype)
    r = subprocess.run([str(BIN), "-e", f'save(load("{f32_copy}"), "{ours_path}", type="{preset}")'],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    theirs = {t.name: t for t in gguf.GGUFReader(theirs_path).tensors}
    ours = {t.name: t for t in gguf.GGUFReader(ours_path).tensors}
    assert set(ours) == set(theirs)
    types = {n: t.tensor_type.name for n, t in theirs.items()}
    assert len(set(types.values())) >= 2 or preset in ("q8_0",), "a preset should mix types on SmolLM2"
    wrong_type = [n for n in theirs if ours[n].tensor_type != theirs[n].tensor_type]
    assert not wrong_type, f"{len(wrong_type)} tensors differ in type, e.g. {wrong_type[:3]}: ours {[ours[n].tensor_type.name for n in wrong_type[:3]]}, llama.cpp {[types[n] for n in wrong_type[:3]]}"
    differ = [n for n in theirs if not np.array_equal(np.asarray(ours[n].data).view(np.uint8), np.asarray(theirs[n].data).view(np.uint8))]
    assert not differ, f"{len(differ)} tensors differ in bytes, e.g. {differ[:3]}"


def test_quantize_type_gives_llama_cpp_values(f32_copy, tmp_path):
    """quantize(m, type="q4_k_m") holds exactly the values llama.cpp's Q4_K_M file dequantises to."""
    theirs_path, ours_path = tmp_path / "llama.gguf", tmp_path / "ours-f32.gguf"
    llama_quantize(f32_copy, theirs_path, 15)
    r = subprocess.run([str(BIN), "-e", f'save(quantize(load("{f32_copy}"), type="q4_k_m"), "{ours_path}", type="f32")'],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    from gguf.quants import dequantize
    theirs = {t.name: t for t in gguf.GGUFReader(theirs_path).tensors}
    ours = {t.name: t for t in gguf.GGUFReader(ours_path).tensors}
    checked = 0
    for name, t in theirs.items():
        if len(t.shape) < 2 or t.tensor_type.name == "F32":
            continue
        want = dequantize(np.asarray(t.data), t.tensor_type).reshape(-1)
        got = np.asarray(ours[name].data, dtype=np.float32).reshape(-1)
        assert np.array_equal(got.view(np.uint32), want.astype(np.float32).view(np.uint32)), name
        checked += 1
    assert checked == 211
