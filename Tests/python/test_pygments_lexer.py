"""PruneLang's Pygments lexer (kernelspec/pygments), the one the kernel's language_info names: it is
installed in the venv, reads every committed script and lecture cell without an error token, gives
the classes the interpreter's lexer implies, and nbconvert's HTML export of a lecture uses it."""
import json
import pathlib

import nbformat
import pytest
from pygments import lex
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String

from conftest import ROOT

LEXER = get_lexer_by_name("prunelang")


def kinds(code):
    return [(t, v) for t, v in lex(code, LEXER) if v.strip()]


def test_the_kernel_names_this_lexer():
    kernel_info = (ROOT / "Sources" / "Kernel" / "KernelInfo.swift").read_text()
    assert '"pygments_lexer": "prunelang"' in kernel_info
    assert type(get_lexer_for_filename("lecture.prune")).__name__ == "PruneLangLexer"


def test_tokens_follow_the_interpreters_lexer():
    toks = kinds('m = load("smollm2-135m")  # the model\n'
                 'fn sq(x) { return x ^ 2 }\n'
                 'for r in 1..3 { p = prune(m, "random-rows", ratio=r / 10, seed=1_000) |> ppl }\n'
                 'ok = not true and none == false or 2.5e-3 >= 1\n'
                 's = "tab\\t quote\\" \\u{1F600}"\n')
    assert (Name.Variable, "m") in toks and (Name.Function, "load") in toks
    assert (String.Double, "smollm2-135m") in toks and (Comment.Single, "# the model") in toks
    assert (Keyword, "fn") in toks and (Name.Function, "sq") in toks and (Keyword, "return") in toks
    assert (Number, "1") in toks and (Operator, "..") in toks and (Number, "3") in toks, "1..3 is a range, not 1. and .3"
    assert (Name.Variable, "ratio") in toks and (Number, "1_000") in toks and (Operator, "|>") in toks
    assert (Operator.Word, "not") in toks and (Keyword.Constant, "none") in toks and (Operator, "==") in toks
    assert (Number, "2.5e-3") in toks and (Operator, ">=") in toks
    assert (String.Escape, "\\t") in toks and (String.Escape, '\\"') in toks and (String.Escape, "\\u{1F600}") in toks
    assert (Name.Variable, "ok") in toks and (Name.Variable, "s") in toks


def committed_code():
    for path in sorted((ROOT / "scripts").glob("*.prune")) + sorted((ROOT / "Tests").rglob("*.prune")):
        yield path.name, path.read_text()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                yield f"{path.name} cell {i}", cell.source


def test_every_committed_script_and_lecture_cell_lexes_without_errors():
    seen = 0
    for name, code in committed_code():
        errors = [v for t, v in lex(code, LEXER) if t in Error]
        if name.startswith("errors"):
            continue   # the golden corpus's deliberate mistakes (a stray backslash, single quotes)
        assert not errors, f"{name}: error tokens {errors[:5]}"
        seen += 1
    assert seen >= 10


def test_nbconvert_html_highlights_a_lecture_with_it():
    from nbconvert import HTMLExporter
    nb = nbformat.read(ROOT / "notebooks" / "01-weights-and-spectra.ipynb", as_version=4)
    assert nb.metadata["language_info"]["pygments_lexer"] == "prunelang"
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert '<span class="nf">load</span>' in html, "a call is highlighted as a function by this lexer"
    assert '<span class="k">for</span>' in html and '<span class="ow">in</span>' in html
