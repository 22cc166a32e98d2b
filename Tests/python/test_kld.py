"""kld(m, base) against the same statistics computed with numpy from llama.cpp's logits
(llama-cpp-python, logits_all) on two windows of WikiText-2: base = an F32 copy of SmolLM2-135M
(llama.cpp's dequantisation of the Q4_1 file), m = llama.cpp's own Q4_K_M of that copy. The two
sides run different arithmetic (llama.cpp quantises activations for its quantised dot products), so
the statistics agree to a tolerance, not to the bit. Skips without the model or llama-cpp-python."""
import subprocess

import numpy as np
import pytest

from conftest import BIN

llama_cpp = pytest.importorskip("llama_cpp")
from llama_reference import SMOLLM as MODEL, WIKI, llama_quantize as quantize

CTX, WINDOWS = 128, 2

pytestmark = pytest.mark.skipif(not MODEL.exists() or not BIN.exists() or not WIKI.exists(),
                                reason="needs SmolLM2, WikiText-2 (../shared/data) and a release build")


def logits(path, tokens):
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=CTX, logits_all=True, verbose=False, n_threads=2)
    out = []
    for w in range(WINDOWS):
        llm.reset()
        llm.eval(tokens[w * CTX:(w + 1) * CTX])
        out.append(np.array(llm.scores[:CTX], dtype=np.float64))
    return llm, out


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def test_kld_matches_numpy_on_llama_cpp_logits(tmp_path):
    base, q = tmp_path / "f32.gguf", tmp_path / "q4_k_m.gguf"
    quantize(MODEL, base, 0, requantize=True)
    quantize(base, q, 15)
    text = tmp_path / "wiki.txt"
    text.write_text(WIKI.read_text()[:6000])

    llm = llama_cpp.Llama(model_path=str(base), n_ctx=CTX, vocab_only=True, verbose=False)
    tokens = llm.tokenize(text.read_text().encode(), add_bos=False, special=False)
    assert len(tokens) >= CTX * WINDOWS
    _, lb = logits(base, tokens)
    _, lq = logits(q, tokens)
    kl, same, nll, base_nll = [], [], [], []
    for w in range(WINDOWS):
        window = tokens[w * CTX:(w + 1) * CTX]
        for p in range(CTX // 2, CTX - 1):
            lp, lq_ = log_softmax(lb[w][p]), log_softmax(lq[w][p])
            kl.append(float(np.sum(np.exp(lp) * (lp - lq_))))
            same.append(int(np.argmax(lb[w][p]) == np.argmax(lq[w][p])))
            nll.append(-lq_[window[p + 1]])
            base_nll.append(-lp[window[p + 1]])
    kl = np.array(kl)

    script = (f'k = kld(load("{q}"), load("{base}"), data="{text}", ctx={CTX}, windows={WINDOWS})\n'
              'print(k.mean)\nprint(k.median)\nprint(k.p90)\nprint(k.top1)\nprint(k.ppl)\nprint(k.base_ppl)\nprint(k.tokens)')
    r = subprocess.run([str(BIN), "-e", script], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    ours = [float(v) for v in r.stdout.split()[-7:]]
    mean, median, p90, same_top, ppl, base_ppl, n = ours
    print(f"ours {ours}; numpy kld {kl.mean():.6g} median {np.percentile(kl, 50):.6g} p90 {np.percentile(kl, 90):.6g} same {np.mean(same):.6g} ppl {np.exp(np.mean(nll)):.6g} base {np.exp(np.mean(base_nll)):.6g}")
    assert n == len(kl) == WINDOWS * (CTX // 2 - 1)
    # Same tokens scored: both perplexities within 1% of llama.cpp's.
    assert base_ppl == pytest.approx(np.exp(np.mean(base_nll)), rel=0.01)
    assert ppl == pytest.approx(np.exp(np.mean(nll)), rel=0.01)
    assert mean > 0.001, "Q4_K_M must move the distributions"
    assert mean == pytest.approx(kl.mean(), rel=0.15)
    assert median == pytest.approx(np.percentile(kl, 50), rel=0.25)
    assert p90 == pytest.approx(np.percentile(kl, 90), rel=0.25)
    assert abs(same_top - np.mean(same)) <= 4 / len(kl)
