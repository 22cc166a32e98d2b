"""What a fault-and-bad-input probe found in the kernel (issue 20), through jupyter_client as a
client sends it: an execute request over the 64 MiB frame limit is answered with an error (not
dropped), a validly signed message sent again is refused (jupyter_client's digest history), a
signature is accepted only as the lower-case hex digest jupyter_client compares, and an interrupt
during input() stops the cell; input() without allow_stdin fails. Each check also asserts what
jupyter_client's own Session does with the same frames, so the kernel is held to the reference."""
import time

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.session import Session

from conftest import BIN
from test_kernel_protocol import TIMEOUT, execute, kernel, raw_socket, result_text, signed_execute  # noqa: F401

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="needs the release build (.build/release/prunelang)")


def replies_on(sock, wait_ms):
    """The messages a raw DEALER socket receives until it has been quiet for wait_ms."""
    out = []
    while sock.poll(wait_ms):
        out.append(sock.recv_multipart())
    return out


def test_an_execute_request_over_the_frame_limit_gets_an_error_reply(kernel):
    _, kc = kernel
    code = 'big = "' + "a" * (65 << 20) + '"'
    reply, seen = execute(kc, code, statuses=True)
    assert reply["status"] == "error" and reply["ename"] == "MessageTooLarge", reply
    assert "64 MiB" in reply["evalue"] and "not run" in reply["evalue"]
    kinds = [m["msg_type"] for m in seen]
    states = [m["content"]["execution_state"] for m in seen if m["msg_type"] == "status"]
    assert states == ["busy", "idle"] and "error" in kinds, kinds
    errors = [m for m in seen if m["msg_type"] == "error"]
    assert errors[0]["content"]["ename"] == "MessageTooLarge"
    reply, _ = execute(kc, "big")
    assert reply["status"] == "error" and reply["ename"] == "NameError"  # it never ran
    reply, outputs = execute(kc, "1 + 1")
    assert reply["status"] == "ok" and result_text(outputs) == ["2"]


def test_a_replayed_message_runs_once(kernel):
    km, kc = kernel
    execute(kc, "hits = 0")
    frames = signed_execute(km.session, "hits += 1")
    # The reference: jupyter_client's Session accepts these frames once, then refuses them.
    reference = Session(key=km.session.key, signature_scheme="hmac-sha256")
    reference.deserialize(frames[1:])
    with pytest.raises(ValueError, match="Duplicate Signature"):
        reference.deserialize(frames[1:])
    shell = raw_socket(km, "shell")
    try:
        for _ in range(3):
            shell.send_multipart(frames)
        answers = [Session(key=km.session.key).deserialize(r[1:]) for r in replies_on(shell, 1500)]
        assert [a["msg_type"] for a in answers] == ["execute_reply"], "one reply, for the first copy only"
        # A message seen on one channel is a replay on another (one history for every channel).
        info = km.session.serialize(km.session.msg("kernel_info_request", {}))
        shell.send_multipart(info)
        assert [Session(key=km.session.key).deserialize(r[1:])["msg_type"] for r in replies_on(shell, 1500)] == ["kernel_info_reply"]
        control = raw_socket(km, "control")
        try:
            control.send_multipart(info)
            assert control.poll(1000) == 0, "the kernel_info_request replayed on control is refused"
        finally:
            control.close()
    finally:
        shell.close()
    reply, outputs = execute(kc, "hits")
    assert result_text(outputs) == ["1"]


def test_a_signature_counts_only_as_the_lower_case_hex_digest(kernel):
    km, kc = kernel
    frames = signed_execute(km.session, "upper = 1")
    shouted = list(frames)
    shouted[1] = frames[1].upper()
    assert shouted[1] != frames[1]
    # The reference compares the bytes of its lower-case hexdigest: upper case is an invalid signature.
    with pytest.raises(ValueError, match="Invalid Signature"):
        Session(key=km.session.key, signature_scheme="hmac-sha256").deserialize(shouted[1:])
    shell = raw_socket(km, "shell")
    try:
        shell.send_multipart(shouted)
        assert shell.poll(1000) == 0, "an upper-case signature is refused, so nothing answers"
        # The lower-case original (never seen by the kernel) is still accepted.
        shell.send_multipart(frames)
        assert shell.poll(TIMEOUT * 1000) != 0
    finally:
        shell.close()
    reply, outputs = execute(kc, "upper")
    assert result_text(outputs) == ["1"]


def test_the_kernelspec_declares_message_interrupts():
    # kernel_info_reply has no interrupt-mode field in the messaging protocol (5.3 to 5.5): the
    # kernelspec's interrupt_mode is where a client learns it, and "message" makes jupyter_client
    # send interrupt_request on the control channel (what the interrupt tests below rely on).
    spec = KernelSpecManager().get_kernel_spec("prunelang")
    assert spec.interrupt_mode == "message"
    assert spec.argv[0] == str(BIN.resolve())


@pytest.mark.parametrize("code", [
    'name = input("who? ")\nafter = 1\n"ran on"',            # straight-line code after input
    'for i in 0..3 { name = input("who? ") }\nafter = 1',     # input inside a loop
])
def test_an_interrupt_during_input_stops_the_cell(kernel, code):
    km, kc = kernel
    execute(kc, "after = 0")
    msg_id = kc.execute(code, allow_stdin=True)
    req = kc.get_stdin_msg(timeout=TIMEOUT)
    assert req["msg_type"] == "input_request"
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "Interrupted", reply["content"]
    reply, outputs = execute(kc, "after")
    assert result_text(outputs) == ["0"], "nothing after the interrupted input ran"
    reply, _ = execute(kc, "name")
    assert reply["status"] == "error" and reply["ename"] == "NameError"
    # A late answer to the interrupted request must not answer the next input().
    kc.input("late")
    time.sleep(0.3)
    msg_id = kc.execute('again = input("again? ")', allow_stdin=True)
    req = kc.get_stdin_msg(timeout=TIMEOUT)
    assert req["content"]["prompt"] == "again? "
    kc.input("fresh")
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["content"]["status"] == "ok"
    reply, outputs = execute(kc, "again")
    assert result_text(outputs) == ['"fresh"']


def test_input_without_stdin_fails(kernel):
    _, kc = kernel
    reply, outputs = execute(kc, 'answer = input("who? ")\nafter_input = 1', allow_stdin=False)
    assert reply["status"] == "error", reply
    assert reply["ename"] == "RuntimeError" and "input: this session has no input" in reply["evalue"], reply["evalue"]
    for name in ("answer", "after_input"):
        reply, _ = execute(kc, name)
        assert reply["status"] == "error" and reply["ename"] == "NameError"
