"""The REPL as a user drives it: the real release binary inside tmux, keys sent with send-keys and
the screen read back with capture-pane. Covers typing, tab completion (names, keyword arguments,
members, paths inside strings), multi-line input, Ctrl-C during a long loop (the session keeps its
variables), Ctrl-C while typing, Ctrl-D, and history across restarts (~/.prunelang_history)."""
import os, pathlib, shutil, subprocess, time, uuid
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / ".build" / "release" / "prunelang"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux server (its own socket) running the REPL with HOME at a temporary folder."""

    def __init__(self, home):
        self.socket = f"prunelang-test-{uuid.uuid4().hex[:8]}"
        self.home = home

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def start(self):
        env = f"env HOME={self.home} TERM=xterm NO_COLOR=1 INPUTRC=/dev/null"
        self.tmux("new-session", "-d", "-s", "repl", "-x", "150", "-y", "50", f"{env} {BIN}")
        self.wait_for(lambda s: "prune>" in s, "the first prompt")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "repl", "-S", "-200")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "repl", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "repl", "-l", text)

    def line(self, text):
        self.type(text)
        self.keys("Enter")

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            if predicate(s):
                return s
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def prompts(self):
        return self.screen().count("prune>")

    def run(self, text, expect):
        """Types a line, waits for a new prompt, and returns the output between the two."""
        before = self.prompts()
        self.line(text)
        screen = self.wait_for(lambda s: s.count("prune>") > before and expect in s.split("prune>")[-2], f"{expect!r} after {text!r}")
        return screen.split("prune>")[-2]

    def alive(self):
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "repl"], capture_output=True).returncode == 0

    def kill(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    t = Terminal(tmp_path)
    yield t
    t.kill()


def last_line(screen):
    return [l for l in screen.rstrip().splitlines() if l.strip()][-1]


def test_typing_completion_multiline_interrupt_and_history(terminal, tmp_path):
    t = terminal
    t.start()
    assert "42" in t.run("x = 40 + 2; x", "42")

    # Tab completes a builtin's name…
    t.type("svdv")
    t.keys("Tab")
    t.wait_for(lambda s: last_line(s).endswith("prune> svdvals"), "name completion")
    out = t.run("(matrix([[3, 0], [0, 4]]))", "[4, 3]")
    assert "[4, 3]" in out

    # …a keyword argument inside a call…
    t.type("randn(2, 2, se")
    t.keys("Tab")
    t.wait_for(lambda s: last_line(s).endswith("randn(2, 2, seed="), "keyword completion")
    t.run("1)[0, 0] == randn(2, 2, seed=1)[0, 0]", "true")

    # …a record's member after a dot…
    t.run("rec = {alpha: 1, beta: 2}", "")
    t.type("rec.be")
    t.keys("Tab")
    t.wait_for(lambda s: last_line(s).endswith("prune> rec.beta"), "member completion")
    t.keys("Enter")

    # …and a file path inside a string.
    (tmp_path / "weights-abcdef.gguf").write_bytes(b"")
    t.type(f'p = "{tmp_path}/weights-ab')
    t.keys("Tab")
    t.wait_for(lambda s: "weights-abcdef.gguf" in last_line(s), "path completion")
    t.type('"')
    t.keys("Enter")

    # Multi-line input: the prompt continues until the braces balance.
    before = t.prompts()
    t.line("fn double(a) {")
    t.wait_for(lambda s: last_line(s).strip().endswith("...>"), "a continuation prompt")
    t.line("  a * 2")
    t.line("}")
    t.wait_for(lambda s: s.count("prune>") > before, "the prompt after the function")
    assert "42" in t.run("double(21)", "42")

    # Ctrl-C during a long loop stops it and keeps every variable, the loop's included.
    before = t.prompts()
    t.line("for i in range(100000) { for j in range(100000) { y = i } }")
    time.sleep(1.0)
    assert t.prompts() == before, "the loop finished before it could be interrupted"
    t.keys("C-c")
    t.wait_for(lambda s: s.count("prune>") > before and "interrupted" in s, "the interruption")
    assert t.alive()
    assert "42" in t.run("x", "42")
    out = t.run("y > 0", "true")

    # Ctrl-C while typing drops the line; nothing of it runs.
    t.type("x = 999")
    t.keys("C-c")
    t.wait_for(lambda s: "^C" in s, "the cancelled line")
    assert "42" in t.run("x", "42")

    # Ctrl-D exits; the history file holds what was entered.
    t.keys("C-d")
    deadline = time.time() + 10
    while t.alive() and time.time() < deadline:
        time.sleep(0.05)
    assert not t.alive(), "Ctrl-D did not exit the REPL"
    history = (tmp_path / ".prunelang_history").read_text()
    assert "double(21)" in history and "x = 40 + 2; x" in history
    assert "x = 999" not in history

    # A new session recalls the last line with the up arrow.
    t.start()
    t.keys("Up")
    t.wait_for(lambda s: last_line(s).endswith("prune> x"), "history recall")
    t.keys("Up")
    t.wait_for(lambda s: last_line(s).endswith("prune> y > 0"), "older history")
    t.keys("C-u")
    out = t.run("double(4)", "'double'")   # a new session: the function is gone, the history is not
    assert "8" not in out
