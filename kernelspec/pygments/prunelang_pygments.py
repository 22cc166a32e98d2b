"""Pygments lexer for PruneLang, the language of the PruneLang REPL and Jupyter kernel.

It follows the interpreter's own lexer (Sources/PruneLang/Lexer.swift): `#` comments to the end of
the line, double-quoted strings with the escapes \\n \\t \\r \\0 \\" \\\\ and \\u{...}, decimal numbers
with an optional fraction and exponent, the keywords, named arguments (`ratio=`), and the operators
including the pipe `|>` and `..` ranges. A name followed by `(` is shown as a function call; a name
after `fn` as a definition.
"""
from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String, Text,
                            Whitespace)

__all__ = ["PruneLangLexer"]


class PruneLangLexer(RegexLexer):
    """Tokens of a PruneLang script or notebook cell."""

    name = "PruneLang"
    aliases = ["prunelang", "prune"]
    filenames = ["*.prune"]
    mimetypes = ["text/x-prunelang"]

    tokens = {
        "root": [
            (r"[ \t\r]+", Whitespace),
            (r"\n", Whitespace),
            (r"\\[ \t\r]*\n", Text),
            (r"#.*?$", Comment.Single),
            (r"(fn)(\s+)([A-Za-z_][A-Za-z0-9_]*)", bygroups(Keyword, Whitespace, Name.Function)),
            (words(("true", "false", "none"), suffix=r"\b"), Keyword.Constant),
            (words(("and", "or", "not", "in"), suffix=r"\b"), Operator.Word),
            (words(("fn", "if", "else", "for", "while", "break", "continue", "return"), suffix=r"\b"), Keyword),
            (r"[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][+-]?[0-9]+)?", Number),
            (r'"', String.Double, "string"),
            (r"([A-Za-z_][A-Za-z0-9_]*)(\s*)(=)(?!=)", bygroups(Name.Variable, Whitespace, Operator)),
            (r"[A-Za-z_][A-Za-z0-9_]*(?=\s*\()", Name.Function),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"\|>|\.\.|\*\*|[=!<>+\-*/]=|[+\-*/%^@<>=?]", Operator),
            (r"[()\[\]{},.:;]", Punctuation),
        ],
        "string": [
            (r'\\(u\{[0-9A-Fa-f]{1,8}\}|[ntr0"\\])', String.Escape),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"\\.", String.Escape),
            (r"\n", String.Double),
        ],
    }
