"""What the tests that check PruneLang against llama.cpp share: the SmolLM2 file and WikiText-2
test text they read, and llama.cpp's own quantiser (llama-cpp-python's `llama_model_quantize`).
Import it after `pytest.importorskip("llama_cpp")`."""
import ctypes

from conftest import ROOT

SMOLLM = ROOT / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
WIKI = ROOT.parent / "shared" / "data" / "wikitext-2-raw" / "wiki.test.raw"


def llama_quantize(src, dst, ftype, pure=False, requantize=False):
    """Quantises the GGUF at src to dst with llama.cpp's llama_ftype `ftype` (0: all F32), two
    threads; `pure` gives every tensor that type, `requantize` allows an already quantised source."""
    import llama_cpp
    llama_cpp.llama_backend_init()
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype, p.pure, p.allow_requantize, p.nthread = ftype, pure, requantize, 2
    assert llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(p)) == 0
