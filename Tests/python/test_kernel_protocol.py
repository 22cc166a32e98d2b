"""The PruneLang kernel through jupyter_client and raw ZeroMQ: signatures are checked (a wrongly
signed or unsigned message is never executed), malformed frames leave it serving, an interrupt
stops a loop and keeps the variables, shutdown is quick, restart works and history survives it,
CurveZMQ keys lock out clients without them, ipc transport, input_request, comms, progress bars,
user_expressions, and an orphaned kernel exits."""
import hashlib
import hmac
import json
import pathlib
import random
import time
import uuid

import pytest
import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

from conftest import BIN, ROOT

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="needs the release build (.build/release/prunelang)")
TIMEOUT = 30


def start(**kw):
    km = KernelManager(kernel_name="prunelang", **kw)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    return km, kc


def stop(km, kc):
    kc.stop_channels()
    if km.is_alive():
        km.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    km, kc = start()
    yield km, kc
    stop(km, kc)


def execute(kc, code, statuses=False, **kw):
    """Runs code; returns (reply content, iopub messages of this request up to idle, statuses left
    out unless `statuses`, which keeps them, the closing idle included)."""
    msg_id = kc.execute(code, **kw)
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
    outputs = []
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        # jupyter_client's manager and client sessions may number messages alike: match the type too.
        if m["parent_header"].get("msg_id") != msg_id or m["parent_header"].get("msg_type") != "execute_request":
            continue
        if m["msg_type"] == "status":
            if statuses:
                outputs.append(m)
            if m["content"]["execution_state"] == "idle":
                break
            continue
        outputs.append(m)
    return reply["content"], outputs


def result_text(outputs):
    return [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]


def raw_socket(km, channel, kind=zmq.DEALER):
    ctx = zmq.Context.instance()
    s = ctx.socket(kind)
    s.linger = 0
    info = km.get_connection_info()
    port = info[f"{channel}_port"]
    s.connect(f"tcp://{info['ip']}:{port}" if info["transport"] == "tcp" else f"ipc://{info['ip']}-{port}")
    return s


def test_kernel_info_and_status_order(kernel):
    km, kc = kernel
    msg_id = kc.kernel_info()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    content = reply["content"]
    assert reply["header"]["version"] == "5.3" and content["protocol_version"] == "5.3"
    li = content["language_info"]
    assert li["name"] == "prunelang" and li["file_extension"] == ".prune" and li["mimetype"]
    assert content["implementation"] == "prunelang" and content["banner"] and content["help_links"]
    # Every output precedes the reply's idle: a loop that prints many lines loses none.
    reply, outputs = execute(kc, 'for i in 0..200 { print("line", i) }\n"done"')
    text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    assert text.count("\n") == 200 and "line 199\n" in text
    assert outputs[0]["msg_type"] == "execute_input" and outputs[-1]["msg_type"] == "execute_result"


def test_figures_are_svg_with_text_fallback_and_tables_html(kernel):
    _, kc = kernel
    reply, outputs = execute(kc, 'plot([3, 1, 2], title="spectrum")')
    assert reply["status"] == "ok"
    data = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]
    assert data["image/svg+xml"].lstrip().startswith("<svg") and data["text/plain"]
    reply, outputs = execute(kc, 'table([{layer: 1, rank: 2.5}])')
    data = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]
    assert "<table" in data["text/html"] and "rank" in data["text/plain"]


def signed_execute(session, code):
    msg = session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                          "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    return session.serialize(msg)


def test_wrongly_signed_messages_are_not_executed(kernel):
    km, kc = kernel
    shell = raw_socket(km, "shell")
    wrong = Session(key=b"not-the-key", signature_scheme="hmac-sha256")
    shell.send_multipart(signed_execute(wrong, "pwned = 1"))
    unsigned = signed_execute(Session(key=b""), "pwned = 2")
    shell.send_multipart(unsigned)
    right = signed_execute(km.session, "")
    tampered = list(right)
    tampered[-1] = json.dumps({"code": "pwned = 3", "silent": False}).encode()  # content changed after signing
    shell.send_multipart(tampered)
    assert shell.poll(1000) == 0, "the kernel must not answer badly signed messages"
    reply, outputs = execute(kc, "pwned")
    assert reply["status"] == "error" and reply["ename"] == "NameError"
    shell.close()


def test_malformed_frames_leave_the_kernel_serving(kernel):
    km, kc = kernel
    rng = random.Random(7)
    key = km.session.key
    def sign(parts):
        h = hmac.new(key, digestmod=hashlib.sha256)
        for p in parts:
            h.update(p)
        return h.hexdigest().encode()
    sockets = [raw_socket(km, "shell"), raw_socket(km, "control"), raw_socket(km, "stdin")]
    header = json.dumps({"msg_id": "x", "msg_type": "execute_request", "session": "s", "username": "u",
                         "date": "2026-01-01T00:00:00Z", "version": "5.3"}).encode()
    for i in range(150):
        s = sockets[i % 3]
        kind = i % 6
        if kind == 0:
            frames = [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))) for _ in range(rng.randint(1, 8))]
        elif kind == 1:
            frames = [b"<IDS|MSG>"] + [b"{}"] * rng.randint(0, 4)
        elif kind == 2:
            parts = [b"not json", b"{}", b"{}", b"{}"]
            frames = [b"<IDS|MSG>", sign(parts)] + parts
        elif kind == 3:
            parts = [json.dumps({"msg_type": 3}).encode(), b"{}", b"{}", b"[1, 2]"]
            frames = [b"<IDS|MSG>", sign(parts)] + parts
        elif kind == 4:
            parts = [header, b"{}", b"{}", json.dumps({"code": 12}).encode()]
            frames = [b"<IDS|MSG>", sign(parts)] + parts + [b"buffer"] * rng.randint(0, 3)
        else:
            frames = [b"<IDS|MSG>", b"z" * 64, header, b"{}", b"{}", b'{"code": "boom = 1"}']
        s.send_multipart(frames)
    # One huge message (over the 64 MiB frame limit): libzmq drops the peer, the kernel goes on.
    big = raw_socket(km, "shell")
    big.send_multipart([b"<IDS|MSG>", b"0" * 64, b"x" * (65 << 20)])
    time.sleep(0.5)
    for s in sockets + [big]:
        s.close()
    reply, outputs = execute(kc, "boom")
    assert reply["status"] == "error"  # never executed
    reply, outputs = execute(kc, "1 + 1")
    assert reply["status"] == "ok" and result_text(outputs) == ["2"]
    assert kc.is_alive()


def test_interrupt_mid_loop_keeps_variables(kernel):
    km, kc = kernel
    execute(kc, "x = 41")
    msg_id = kc.execute("i = 0\nwhile true { i += 1 }")
    time.sleep(0.7)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "Interrupted"
    assert "every variable keeps its value" in reply["content"]["evalue"]
    reply, outputs = execute(kc, "x + 1")
    assert result_text(outputs) == ["42"]
    reply, outputs = execute(kc, "i > 1000")
    assert result_text(outputs) == ["true"]


def test_a_failing_cell_does_not_take_the_kernel_down(kernel):
    _, kc = kernel
    for code in ["fn f(n) { f(n + 1) }\nf(0)", "matrix([[1, 2], [3]])", "randn(100000, 100000)", "1 / 0 + [1] @ 3"]:
        reply, outputs = execute(kc, code)
        assert reply["status"] in ("error", "ok")
    reply, outputs = execute(kc, '"alive"')
    assert result_text(outputs) == ['"alive"']


def test_shutdown_exits_quickly_even_mid_cell():
    for busy in (False, True):
        km, kc = start()
        if busy:
            kc.execute("while true { 1 }")
            time.sleep(0.3)
        t0 = time.monotonic()
        kc.shutdown()
        while km.is_alive() and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        elapsed = time.monotonic() - t0
        stop(km, kc)
        assert elapsed < 1.0, f"shutdown took {elapsed:.2f}s (busy={busy})"


def test_restart_works_and_history_survives_it(kernel):
    km, kc = kernel
    marker = f"marker_{uuid.uuid4().hex[:8]} = 1"
    execute(kc, marker)
    execute(kc, "y = 5")
    km.restart_kernel()
    kc.wait_for_ready(timeout=TIMEOUT)
    reply, outputs = execute(kc, "y")
    assert reply["status"] == "error"  # a new session
    msg_id = kc.history(hist_access_type="search", pattern="marker_*", output=False, raw=True)
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    inputs = [h[2] for h in reply["content"]["history"]]
    assert marker in inputs


def test_comm_open_to_an_unknown_target_is_closed(kernel):
    km, kc = kernel
    comm_id = uuid.uuid4().hex
    msg = kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "nobody", "data": {}})
    kc.shell_channel.send(msg)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["msg_type"] == "comm_close":
            assert m["content"]["comm_id"] == comm_id
            break
    else:
        pytest.fail("no comm_close")
    kc.comm_info()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["content"] == {"status": "ok", "comms": {}}


def test_input_request_round_trip(kernel):
    _, kc = kernel
    msg_id = kc.execute('name = input("who? ")', allow_stdin=True)
    req = kc.get_stdin_msg(timeout=TIMEOUT)
    assert req["msg_type"] == "input_request" and req["content"]["prompt"] == "who? "
    kc.input("Ada")
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["content"]["status"] == "ok"
    reply, outputs = execute(kc, "name")
    assert result_text(outputs) == ['"Ada"']


def test_user_expressions_are_evaluated_after_the_cell(kernel):
    _, kc = kernel
    reply, _ = execute(kc, "w = 3", user_expressions={"sq": "w * w", "bad": "nothing_here"})
    ue = reply["user_expressions"]
    assert ue["sq"]["status"] == "ok" and ue["sq"]["data"]["text/plain"] == "9"
    assert ue["bad"]["status"] == "error" and ue["bad"]["ename"] == "NameError"


def test_stop_on_error_aborts_queued_cells(kernel):
    _, kc = kernel
    # The failing cell first runs a loop (~0.1 s) so that the second request is queued before the
    # error: the kernel aborts requests sent before the error, and a bare "nope()" can fail in
    # under a millisecond, before the client has sent the second (a race the test lost about half
    # the time on this 2-core VM).
    first = kc.execute("t = 0\nfor i in range(300000) { t = t + i }\nnope()")
    second = kc.execute("z = 1")
    replies = {}
    while len(replies) < 2:
        r = kc.get_shell_msg(timeout=TIMEOUT)
        replies[r["parent_header"]["msg_id"]] = r["content"]["status"]
    assert replies == {first: "error", second: "aborted"}


def test_ipc_transport(tmp_path):
    km, kc = start(transport="ipc", ip=str(tmp_path / "k"))
    try:
        reply, outputs = execute(kc, "2 ^ 10")
        assert result_text(outputs) == ["1024"]
        assert list(tmp_path.glob("k-*")), "ipc socket files exist"
    finally:
        stop(km, kc)


def test_curve_keys_lock_out_clients_without_them():
    km, kc = start(transport_encryption="required")
    try:
        info = km.get_connection_info()
        assert info.get("curve_publickey") and info.get("curve_secretkey")
        reply, outputs = execute(kc, "3 * 3")
        assert result_text(outputs) == ["9"]
        plain = raw_socket(km, "shell")
        plain.send_multipart(signed_execute(km.session, "leak = 1"))
        assert plain.poll(1500) == 0, "a client without the CURVE keys gets nothing back"
        plain.close()
        reply, outputs = execute(kc, "leak")
        assert reply["status"] == "error"
    finally:
        stop(km, kc)


@pytest.mark.skipif(not (ROOT / "models" / "smollm2-135m").exists(), reason="needs scripts/fetch-models")
def test_progress_bar_updates_in_place(kernel):
    _, kc = kernel
    reply, outputs = execute(kc, 'ppl(load("smollm2-135m"), ctx=32, windows=3)')
    assert reply["status"] == "ok", reply
    shown = [m for m in outputs if m["msg_type"] == "display_data" and m["content"].get("transient", {}).get("display_id")]
    assert shown, "a progress display"
    display_id = shown[0]["content"]["transient"]["display_id"]
    updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
    assert updates and all(u["content"]["transient"]["display_id"] == display_id for u in updates)
    assert "3/3" in updates[-1]["content"]["data"]["text/plain"]


def test_kernel_exits_when_the_process_that_started_it_is_gone(tmp_path):
    import socket
    import subprocess
    import sys

    ports = []
    for _ in range(5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    cf = tmp_path / "c.json"
    cf.write_text(json.dumps({"transport": "tcp", "ip": "127.0.0.1", "shell_port": ports[0], "control_port": ports[1],
                              "stdin_port": ports[2], "iopub_port": ports[3], "hb_port": ports[4], "key": "k",
                              "signature_scheme": "hmac-sha256"}))
    starter = ("import subprocess, sys, time; "
               f"p = subprocess.Popen([{str(BIN)!r}, 'kernel', '-f', {str(cf)!r}]); print(p.pid, flush=True); time.sleep(0.5)")
    mid = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    pid = int(mid.stdout.readline())
    mid.wait()
    deadline = time.monotonic() + 5
    def running():
        try:
            state = pathlib.Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False
        return "\nState:\tZ" not in state
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(), "an orphaned kernel exits by itself"
