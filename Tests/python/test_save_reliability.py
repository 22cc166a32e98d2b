"""save() as a careless or unlucky user meets it, through the real binary (issue 20): a save killed
with SIGKILL leaves its part file, and the next save to that folder removes it (while a live
process's part file stays); save(m, "") and save(m, ".") in a folder with a config.json of its own
fail, pointing at the path, and change nothing. The model is a small llama GGUF written here with
the `gguf` package, so these run without the models folder."""
import os
import pathlib
import re
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import BIN

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="needs the release build (.build/release/prunelang)")


def make_llama(path, d=64, ffn=128, blocks=2, vocab=256, heads=4):
    """A llama GGUF with random F32 weights and a stand-in GPT-2 token list (enough to load and save)."""
    import gguf
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("test llama")
    w.add_block_count(blocks)
    w.add_context_length(128)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(d // heads)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(vocab)])
    rng = np.random.default_rng(0)
    def m(rows, cols):
        return (rng.standard_normal((rows, cols)) * 0.02).astype(np.float32)
    w.add_tensor("token_embd.weight", m(vocab, d))
    for b in range(blocks):
        w.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(d, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(f"blk.{b}.{name}.weight", m(d, d))
        w.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(f"blk.{b}.ffn_gate.weight", m(ffn, d))
        w.add_tensor(f"blk.{b}.ffn_up.weight", m(ffn, d))
        w.add_tensor(f"blk.{b}.ffn_down.weight", m(d, ffn))
    w.add_tensor("output_norm.weight", np.ones(d, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def prunelang(code, cwd):
    return subprocess.run([str(BIN), "-e", code], capture_output=True, text=True, cwd=cwd, timeout=300)


def part_files(folder):
    return sorted(p.name for p in pathlib.Path(folder).iterdir() if re.fullmatch(r"\..+\.\d+\.part", p.name))


def test_a_save_killed_midway_leaves_a_part_file_that_the_next_save_removes(tmp_path):
    # Big enough (about 31M parameters, re-encoded as Q8_0) that a save takes a while to write.
    src = make_llama(tmp_path / "src.gguf", d=512, ffn=1536, blocks=8, vocab=8192, heads=8)
    out = tmp_path / "out"
    out.mkdir()
    live = out / f".keep.gguf.{os.getpid()}.part"      # this test process is alive: a writer to leave alone
    live.write_bytes(b"someone else's half-written file")
    stale = None
    for _ in range(5):
        child = subprocess.Popen([str(BIN), "-e", f'save(load("{src}"), "{out}/m.gguf", type="q8_0")'],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        part = out / f".m.gguf.{child.pid}.part"
        def written():
            try:
                return part.stat().st_size > 0
            except FileNotFoundError:
                return False
        deadline = time.monotonic() + 120
        while child.poll() is None and not written() and time.monotonic() < deadline:
            time.sleep(0.0005)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if part.exists():
            stale = part
            break
        (out / "m.gguf").unlink(missing_ok=True)      # it finished before the kill: try again
    assert stale is not None, "could not kill a save midway in 5 tries"
    assert stale.stat().st_size > 0
    r = prunelang(f'save(load("{src}"), "{out}/n.gguf").tensors', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (out / "n.gguf").exists()
    assert not stale.exists(), "the part file of the killed save is removed by the next save to the folder"
    assert part_files(out) == [live.name], "only the live process's part file is left"
    assert live.read_bytes() == b"someone else's half-written file"


def test_save_to_an_empty_path_or_a_folder_that_is_not_a_models_fails_and_changes_nothing(tmp_path):
    src = make_llama(tmp_path / "src.gguf")
    work = tmp_path / "work"
    work.mkdir()
    theirs = '{"editor": "vim"}\n'
    (work / "config.json").write_text(theirs)
    (work / "model.safetensors").write_bytes(b"not to be replaced")
    for path, says in (('""', "empty"), ('"."', "config.json"), ('"./weights.safetensors"', "config.json")):
        code = f'm = load("{src}")\nsave(m, {path})'
        r = prunelang(code, cwd=work)
        text = r.stdout + r.stderr
        assert r.returncode != 0, f"save(m, {path}) must fail: {text}"
        assert says in text, text
        # The error points at the path argument: line 2, the column where it starts.
        column = code.split("\n")[1].index(path) + 1
        assert f":2:{column}: error: save:" in text, text
        assert sorted(p.name for p in work.iterdir()) == ["config.json", "model.safetensors"]
        assert (work / "config.json").read_text() == theirs
        assert (work / "model.safetensors").read_bytes() == b"not to be replaced"
    # A PruneNet policy saves through the same atomic writer: an empty path fails at the argument.
    r = prunelang(f'p = train_policy(load("{src}"), ratio=0.5, episodes=1, seed=0)\nsave(p, "")', cwd=work)
    assert r.returncode != 0 and ":2:9: error: save: cannot write '': the path is empty" in r.stdout + r.stderr, r.stdout + r.stderr
    assert sorted(p.name for p in work.iterdir()) == ["config.json", "model.safetensors"]
    # A new folder, and a .gguf file, are fine.
    r = prunelang(f'm = load("{src}")\nsave(m, "fresh")\nsave(m, "copy.gguf");', cwd=work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (work / "fresh" / "model.safetensors").exists() and (work / "copy.gguf").exists()
