"""DockerImporter against the fake engine through the real Docker SDK (no database needed).

The exec flow of test-infrastructure §3.2-3.3: exec_create with stdin, exec_start with
socket=True, the PEM written and the write half shut, frames read with our own deadline,
exec_inspect for the exit code. Every failure is a CaError naming what is missing and how
to check it, and none of them blocks past the timeout.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.trust.docker_importer import CERTSTORE_COMMAND, DockerImporter, read_frames
from hermes_ca_tui.messages import describe
from tests.fake_docker import FakeDockerEngine
from tests.support import build_cert, rsa_key
from tests.trust_support import pem_of

pytestmark = pytest.mark.docker

CONTAINER = "hermes_ciphermail"
IMPORT_ARGV = [*CERTSTORE_COMMAND, "--import-certificates"]


class Recorder:
    """A CertStore that only records what it was given and answers as told."""

    def __init__(self, code: int = 0, out: bytes = b"1 new certificate(s) imported\n") -> None:
        self.code = code
        self.out = out
        self.err = b""
        self.calls: list[tuple[list[str], bytes]] = []

    def __call__(self, argv: Sequence[str], stdin: bytes) -> tuple[int, bytes, bytes]:
        self.calls.append((list(argv), stdin))
        return self.code, self.out, self.err


@pytest.fixture
def recorder(fake_engine: FakeDockerEngine) -> Recorder:
    handler = Recorder()
    fake_engine.handlers[CERTSTORE_COMMAND[0]] = handler
    return handler


def importer(
    engine: FakeDockerEngine, *, timeout: float = 10.0, container: str = CONTAINER
) -> DockerImporter:
    return DockerImporter(engine.url, container, timeout=timeout)


def expect_error(code: Code, call: object, *args: object) -> CaError:
    assert callable(call)
    with pytest.raises(CaError) as info:
        call(*args)
    assert info.value.code is code, info.value
    return info.value


# --- the happy path, as the engine sees it ---------------------------------------------


def test_import_runs_certstore_with_the_pem_on_stdin_no_shell_no_secrets(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    cert = build_cert("Stdin Root CA", rsa_key(2048))
    importer(fake_engine).import_certificate(cert)

    assert recorder.calls == [(IMPORT_ARGV, pem_of(cert))]
    [record] = fake_engine.exec_records()
    assert record.argv == IMPORT_ARGV
    assert not {"sh", "/bin/sh", "bash", "-c"} & set(record.argv), "no shell"
    assert all("PRIVATE KEY" not in a and "BEGIN" not in a for a in record.argv)
    assert record.config["AttachStdin"] is True
    assert record.config["Tty"] is False
    assert not record.config.get("Env"), "nothing passed through the environment"
    assert record.stdin == pem_of(cert)
    assert record.stdin_closed, "the write half was shut: CertStore saw EOF"
    assert record.exit_code == 0
    # exec_create, the hijacked start (Upgrade: tcp), then exec_inspect for the exit code.
    routes = [r for r in fake_engine.routes() if r != "GET /version"]
    assert routes == [
        f"POST /containers/{CONTAINER}/exec",
        f"POST /exec/{record.id}/start",
        f"GET /exec/{record.id}/json",
    ]
    start = next(r for r in fake_engine.requests if r.route.endswith("/start"))
    assert start.headers.get("Upgrade") == "tcp"
    assert json.loads(start.body) == {"Tty": False, "Detach": False}


def test_run_returns_the_exit_code_and_demultiplexed_output(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    recorder.code, recorder.out = 5, b"o" * 300_000
    recorder.err = b"e" * 70_000
    big_stdin = bytes(range(256)) * 2048  # 512 KiB, binary
    result = importer(fake_engine).run(IMPORT_ARGV, big_stdin)
    assert (result.exit_code, result.stdout, result.stderr) == (5, recorder.out, recorder.err)
    assert recorder.calls[0][1] == big_stdin


def test_check_passes_when_the_engine_answers_and_the_container_runs(
    fake_engine: FakeDockerEngine,
) -> None:
    imp = importer(fake_engine)
    imp.check()
    assert imp.describe() == f"docker {fake_engine.url} -> {CONTAINER}"
    assert f"GET /containers/{CONTAINER}/json" in fake_engine.routes()


# --- failures: each names what is missing and how to check it --------------------------


def test_a_non_zero_exit_is_trust_failed_with_certstore_s_first_line(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    recorder.code, recorder.out = 3, b""
    recorder.err = b"java.lang.IllegalStateException: store locked\n\tat mitm.Foo(Foo.java:1)\n"
    error = expect_error(
        Code.TRUST_FAILED, importer(fake_engine).import_certificate, build_cert("X", rsa_key())
    )
    assert error.params["reason"] == (
        "CertStore exited with 3: java.lang.IllegalStateException: store locked"
    )
    assert "Nothing was changed" in describe(error).text


def test_a_missing_socket_is_trust_unavailable_naming_the_socket(tmp_path: Path) -> None:
    path = tmp_path / "no-such-docker.sock"
    imp = DockerImporter(f"unix://{path}", CONTAINER, timeout=5)
    for call, args in ((imp.check, ()), (imp.import_certificate, (build_cert("X", rsa_key()),))):
        error = expect_error(Code.TRUST_UNAVAILABLE, call, *args)
        assert error.params["reason"] == f"the Docker socket {path} does not exist"
        assert f"ls -l {path}" in error.params["hint"]
        text = describe(error).text
        assert text.startswith(f"CipherMail cannot be reached: the Docker socket {path} does")


def test_a_file_that_is_no_socket_and_a_socket_nobody_listens_on_are_named(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "plain.sock"
    plain.write_text("")
    dead = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead))
    listener.close()  # the socket file stays; nothing listens on it

    not_socket = expect_error(
        Code.TRUST_UNAVAILABLE, DockerImporter(f"unix://{plain}", CONTAINER, timeout=5).check
    )
    refused = expect_error(
        Code.TRUST_UNAVAILABLE, DockerImporter(f"unix://{dead}", CONTAINER, timeout=5).check
    )

    assert not_socket.params["reason"] == f"{plain} is not a socket"
    assert refused.params["reason"] == (
        f"cannot reach the Docker engine at unix://{dead}: Connection refused"
    )


def test_a_missing_container_is_trust_unavailable_naming_the_container(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    fake_engine.remove_container(CONTAINER)
    imp = importer(fake_engine)
    for call, args in ((imp.check, ()), (imp.import_certificate, (build_cert("X", rsa_key()),))):
        error = expect_error(Code.TRUST_UNAVAILABLE, call, *args)
        assert error.params["reason"] == f"there is no container named {CONTAINER}"
        assert f"docker ps --filter name={CONTAINER}" in error.params["hint"]
    assert recorder.calls == []


def test_a_stopped_container_is_trust_unavailable_saying_it_does_not_run(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    fake_engine.stop_container(CONTAINER)
    imp = importer(fake_engine)
    error = expect_error(Code.TRUST_UNAVAILABLE, imp.check)
    assert error.params["reason"] == f"the container {CONTAINER} is exited"
    error = expect_error(Code.TRUST_UNAVAILABLE, imp.import_certificate, build_cert("X", rsa_key()))
    assert error.params["reason"].startswith(f"the container {CONTAINER} is not running")
    assert f"docker ps --filter name={CONTAINER}" in error.params["hint"]
    assert recorder.calls == []


def test_a_command_missing_in_the_container_is_trust_failed(fake_engine: FakeDockerEngine) -> None:
    error = expect_error(
        Code.TRUST_FAILED, importer(fake_engine).import_certificate, build_cert("X", rsa_key())
    )
    assert error.params["reason"].startswith("CertStore exited with 127: OCI runtime exec failed")


# --- never blocked forever ---------------------------------------------------------------


def test_a_hanging_certstore_is_given_up_at_the_timeout(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    entered = threading.Event()

    def hang(argv: Sequence[str], stdin: bytes) -> tuple[int, bytes, bytes]:
        entered.set()
        fake_engine.release.wait(120)
        return 137, b"", b"Killed\n"

    fake_engine.handlers[CERTSTORE_COMMAND[0]] = hang
    imp = importer(fake_engine, timeout=1.0)
    started = time.monotonic()
    error = expect_error(Code.TRUST_UNAVAILABLE, imp.import_certificate, build_cert("X", rsa_key()))
    elapsed = time.monotonic() - started
    assert entered.is_set(), "CertStore was running (stdin delivered, EOF seen)"
    assert 0.9 <= elapsed < 4.0, elapsed
    assert error.params["reason"] == "CertStore --import-certificates did not finish within 1 s"
    [record] = fake_engine.exec_records()
    assert record.stdin_closed and record.exit_code is None


@pytest.mark.parametrize(
    ("stalled", "call"),
    [
        (r"/version", "check"),
        (r"/containers/[^/]+/json", "check"),
        (r"/version", "import"),
        (r"/containers/[^/]+/exec", "import"),
        (r"/exec/[^/]+/start", "import"),
        (r"/exec/[^/]+/json", "import"),
    ],
)
def test_a_stalled_engine_never_blocks_the_caller_forever(
    fake_engine: FakeDockerEngine, recorder: Recorder, stalled: str, call: str
) -> None:
    fake_engine.stall_routes.append(stalled)
    imp = importer(fake_engine, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(CaError) as info:
        if call == "check":
            imp.check()
        else:
            imp.import_certificate(build_cert("X", rsa_key()))
    elapsed = time.monotonic() - started
    assert info.value.code is Code.TRUST_UNAVAILABLE
    assert elapsed < 4.0, elapsed
    assert "hint" in info.value.params


def test_a_slow_engine_cannot_stretch_one_import_past_the_timeout(
    fake_engine: FakeDockerEngine, recorder: Recorder
) -> None:
    """The timeout bounds the whole import, not each of its four engine calls."""
    fake_engine.delay_s = 0.5  # version, exec_create, exec_start, exec_inspect: 2 s
    imp = importer(fake_engine, timeout=1.0)
    started = time.monotonic()
    error = expect_error(Code.TRUST_UNAVAILABLE, imp.import_certificate, build_cert("X", rsa_key()))
    elapsed = time.monotonic() - started
    assert elapsed < 1.8, elapsed
    assert f"ls -l {fake_engine.socket_path}" in error.params["hint"]


# --- the frame reader ------------------------------------------------------------------------


def _frames(*parts: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack(">BxxxL", s, len(d)) + d for s, d in parts)


def test_read_frames_reassembles_frames_split_at_every_byte() -> None:
    ours, theirs = socket.socketpair()
    data = _frames((1, b"hello "), (2, b"warn\n"), (1, b""), (1, b"world\n"), (2, b"x" * 70_000))

    def dribble() -> None:
        for i in range(0, 64):
            theirs.sendall(data[i : i + 1])
        theirs.sendall(data[64:])
        theirs.close()

    writer = threading.Thread(target=dribble)
    writer.start()
    try:
        out, err = read_frames(ours, time.monotonic() + 10)
    finally:
        writer.join()
        ours.close()
    assert out == b"hello world\n"
    assert err == b"warn\n" + b"x" * 70_000


def test_read_frames_gives_up_at_the_deadline() -> None:
    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(_frames((1, b"partial")))
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            read_frames(ours, time.monotonic() + 0.3)
        assert time.monotonic() - started < 2.0
    finally:
        ours.close()
        theirs.close()
