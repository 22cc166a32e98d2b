"""The interrupt button answers within seconds during every long builtin, as a real client sends it
(jupyter_client, interrupt_request on the control channel): ppl at ctx 2048 (one window, so no
progress between windows), zero-shot scoring, Wanda with calibration, and PruneNet policy training.
The reply is the usual Interrupted error, and the session keeps its variables: the model loaded
before, a number, and for train_policy the best policy so far, bound by the interrupted assignment
(the rest of the cell does not run)."""
import time

import pytest

from conftest import BIN, ROOT
from test_kernel_protocol import TIMEOUT, execute, result_text, start, stop

pytestmark = [
    pytest.mark.skipif(not BIN.exists(), reason="needs the release build (.build/release/prunelang)"),
    pytest.mark.skipif(not (ROOT / "models" / "smollm2-135m").exists(), reason="needs scripts/fetch-models"),
]
# The interrupt must be answered within this many seconds of being sent.
LATENCY = 3.0


@pytest.fixture(scope="module")
def session():
    km, kc = start()
    reply, _ = execute(kc, 'm = load("smollm2-135m");\nx = 41;')
    assert reply["status"] == "ok", reply
    yield km, kc
    stop(km, kc)


def interrupt_after(km, kc, code, wait):
    """Runs `code`, interrupts it `wait` seconds in, and returns (reply content, seconds from the
    interrupt to the reply)."""
    msg_id = kc.execute(code)
    time.sleep(wait)
    sent = time.monotonic()
    km.interrupt_kernel()
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT + 120)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    latency = time.monotonic() - sent
    # Drain this request's iopub up to idle so the next execute starts clean.
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            break
    return reply["content"], latency


@pytest.mark.parametrize("code, wait", [
    ("ppl(m, ctx=2048, windows=1)", 4.0),
    ('zeroshot(m, task="hellaswag", limit=400)', 4.0),
    ('prune(m, "wanda", ratio=0.5)', 6.0),
])
def test_long_builtins_answer_the_interrupt_within_seconds(session, code, wait):
    km, kc = session
    reply, latency = interrupt_after(km, kc, code, wait)
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
    assert latency < LATENCY, f"{code}: the reply came {latency:.1f} s after the interrupt"
    _, outputs = execute(kc, "[x, params(m)]")
    assert result_text(outputs) == ["[41, 134515008]"], "the session lost its variables"


def test_train_policy_keeps_the_best_policy_and_stops_the_cell(session):
    km, kc = session
    reply, latency = interrupt_after(km, kc, "p = train_policy(m, ratio=0.3, episodes=1000, seed=0)\ny = 1", 12.0)
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
    assert latency < LATENCY, f"train_policy: the reply came {latency:.1f} s after the interrupt"
    _, outputs = execute(kc, "[p.interrupted, len(p.curve) < 1000, x]")
    assert result_text(outputs) == ["[true, true, 41]"]
    reply, _ = execute(kc, "y")
    assert reply["status"] == "error", "the statement after the interrupted training must not run"
