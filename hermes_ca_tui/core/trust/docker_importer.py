"""``docker`` mode: CipherMail's CertStore, run in its container through the Docker socket.

The Docker SDK's low-level exec API is used the way that works with stdin
(test-infrastructure §3.2–3.3): ``exec_create`` with stdin, ``exec_start(socket=True)``,
the PEM written and the write half shut (CertStore's EOF), the multiplexed output read
by our own reader with a deadline (docker-py's blocks forever), then ``exec_inspect`` for
the exit code. No shell, no temporary script, nothing secret in argv (a certificate is
public anyway). One deadline (``timeout``) bounds a whole run: every engine call gets what
is left of it, and a command still running at the deadline is given up (its connection
closed) with TRUST_UNAVAILABLE.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.errors import CaError, Code

CERTSTORE_COMMAND = (
    "/usr/bin/java",
    "-cp",
    # Java expands the classpath wildcard itself; no shell is involved.
    "/usr/share/djigzo/lib/*",
    "mitm.application.djigzo.tools.CertStore",
)
"""The CertStore tool inside ``hermes_ciphermail`` (appliance-facts §6.2)."""

DEFAULT_TIMEOUT_S = 120.0
"""Longest a CertStore run may take (the web page allowed 240 s)."""

_HEADER = struct.Struct(">BxxxL")
_HINT = (
    "Check that the Docker socket is mounted and readable (ls -l {socket}) and that the "
    "container runs (docker ps --filter name={container})."
)


@dataclass(frozen=True)
class ExecResult:
    """What a command run in the container returned."""

    exit_code: int
    stdout: bytes
    stderr: bytes


def read_frames(sock: socket.socket, deadline: float) -> tuple[bytes, bytes]:
    """Read Docker's multiplexed stream until EOF or the deadline.

    Each frame is an 8-byte header (stream 1 = stdout, 2 = stderr; payload length, big
    endian) followed by its payload.

    Raises:
        TimeoutError: The deadline passed before the stream ended.
    """
    buffer = bytearray()
    out: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no end of output before the deadline")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            stream, length = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + length:
                break
            payload = bytes(buffer[_HEADER.size : _HEADER.size + length])
            del buffer[: _HEADER.size + length]
            out.setdefault(stream, bytearray()).extend(payload)
    return bytes(out[1]), bytes(out[2])


class DockerImporter:
    """Imports certificates with CipherMail's own CertStore in its container.

    Args:
        url: The engine's address (``unix:///var/run/docker.sock``).
        container: The CipherMail container's name.
        command: CertStore's argv prefix (``--import-certificates`` is appended).
        timeout: Seconds one CertStore run may take, engine calls included (``check``
            gives each of its calls that long).
    """

    mode = "docker"

    def __init__(
        self,
        url: str,
        container: str,
        *,
        command: Sequence[str] = CERTSTORE_COMMAND,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.container = container
        self.command = tuple(command)
        self.timeout = timeout
        self._api: Any = None

    def describe(self) -> str:
        """Where trust changes go."""
        return f"docker {self.url} -> {self.container}"

    def _unavailable(self, reason: str) -> CaError:
        socket_path = self.url.removeprefix("unix://")
        return CaError(
            Code.TRUST_UNAVAILABLE,
            reason=reason,
            hint=_HINT.format(socket=socket_path, container=self.container),
        )

    def _socket_problem(self) -> str | None:
        """Why the engine's unix socket cannot be used, in words, or None.

        Asked before the SDK is, whose own message for these cases is a nest of
        connection errors.
        """
        if not self.url.startswith("unix://"):
            return None
        path = self.url.removeprefix("unix://")
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            return f"the Docker socket {path} does not exist"
        except OSError as exc:
            return f"the Docker socket {path} cannot be examined: {exc.strerror}"
        if not stat.S_ISSOCK(mode):
            return f"{path} is not a socket"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"no permission to use the Docker socket {path}"
        return None

    def _client(self) -> Any:
        if self._api is None:
            import docker  # the SDK loads only when docker mode is used

            problem = self._socket_problem()
            if problem is not None:
                raise self._unavailable(problem)
            try:
                # "auto" asks the engine for its API version: the first I/O happens here.
                self._api = docker.APIClient(
                    base_url=self.url, version="auto", timeout=self.timeout
                )
            except docker.errors.DockerException as exc:
                raise self._unavailable(
                    f"cannot reach the Docker engine at {self.url}: {_connection_words(exc)}"
                ) from None
        return self._api

    def check(self) -> None:
        """Raise TRUST_UNAVAILABLE unless the engine answers and the container runs."""
        import docker
        import requests

        api = self._client()
        api.timeout = self.timeout
        try:
            api.ping()
            state = api.inspect_container(self.container).get("State", {})
        except docker.errors.NotFound:
            raise self._unavailable(f"there is no container named {self.container}") from None
        except (docker.errors.DockerException, OSError, requests.RequestException) as exc:
            raise self._unavailable(
                f"the Docker engine at {self.url} does not answer: {_connection_words(exc)}"
            ) from None
        if not state.get("Running", False):
            status = state.get("Status", "not running")
            raise self._unavailable(f"the container {self.container} is {status}")

    def run(self, argv: Sequence[str], stdin: bytes, *, label: str | None = None) -> ExecResult:
        """Run a command in the container with ``stdin`` as its input.

        Args:
            argv: The command (no shell is involved).
            stdin: Written to the command, then its end of input.
            label: How messages name the command (default: its program's file name).

        Raises:
            CaError: TRUST_UNAVAILABLE when the engine or container cannot be used or the
                command outlives the timeout.
        """
        import docker
        import requests

        # One deadline for the whole run: every engine call gets what is left of it, so a
        # slow engine cannot stretch the run to several timeouts.
        deadline = time.monotonic() + self.timeout
        name = label or (argv[0].rsplit("/", 1)[-1] if argv else "the command")
        api = self._client()
        try:
            api.timeout = _left(deadline)
            exec_id = api.exec_create(
                self.container, list(argv), stdin=True, stdout=True, stderr=True, tty=False
            )["Id"]
            api.timeout = _left(deadline)
            stream = api.exec_start(exec_id, socket=True)
        except TimeoutError:
            raise self._timed_out(name) from None
        except docker.errors.NotFound:
            raise self._unavailable(f"there is no container named {self.container}") from None
        except docker.errors.APIError as exc:
            # A container that does not run is refused with 409 by Docker, 500 by podman:
            # ask for its state rather than trusting the status code.
            status = self._status(api)
            if status is not None and status != "running":
                raise self._unavailable(
                    f"the container {self.container} is not running ({status}): {_explanation(exc)}"
                ) from None
            raise self._unavailable(f"the engine refused the command: {_first_line(exc)}") from None
        except (docker.errors.DockerException, OSError, requests.RequestException) as exc:
            raise self._unavailable(
                f"the Docker engine at {self.url} does not answer: {_connection_words(exc)}"
            ) from None
        # exec_start returns a SocketIO: the raw socket is needed to shut the write half
        # (docker-py issue 2255).
        raw: socket.socket = stream._sock
        try:
            raw.settimeout(max(0.1, deadline - time.monotonic()))
            raw.sendall(stdin)
            raw.shutdown(socket.SHUT_WR)
            stdout, stderr = read_frames(raw, deadline)
        except TimeoutError:
            raise self._timed_out(name) from None
        except OSError as exc:
            raise self._unavailable(f"the exec stream broke: {_first_line(exc)}") from None
        finally:
            # Close the connection itself, now: the SDK's response object still holds the
            # socket, and a command given up at the deadline must see its client leave.
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                stream.close()
            with contextlib.suppress(OSError):
                raw.close()
        return ExecResult(self._exit_code(api, exec_id, deadline), stdout, stderr)

    def _timed_out(self, name: str) -> CaError:
        return self._unavailable(f"{name} did not finish within {self.timeout:g} s")

    def _status(self, api: Any) -> str | None:
        """The container's state (``running``, ``exited``...), or None if unknown."""
        try:
            state = api.inspect_container(self.container).get("State", {})
        except Exception:  # only to word a message: any failure means "unknown"
            return None
        if state.get("Running"):
            return "running"
        return str(state.get("Status") or "not running")

    def _exit_code(self, api: Any, exec_id: str, deadline: float) -> int:
        import docker
        import requests

        while True:
            try:
                api.timeout = max(0.1, deadline - time.monotonic())
                info = api.exec_inspect(exec_id)
            except (docker.errors.DockerException, OSError, requests.RequestException) as exc:
                raise self._unavailable(f"cannot read the exit code: {_first_line(exc)}") from None
            code = info.get("ExitCode")
            if not info.get("Running") and code is not None:
                return int(code)
            if time.monotonic() >= deadline:
                raise self._unavailable("the command's exit code never came")
            time.sleep(0.02)

    def import_certificate(self, cert: x509.Certificate) -> None:
        """Run ``CertStore --import-certificates`` with the PEM on stdin.

        Raises:
            CaError: TRUST_FAILED for a non-zero exit code; TRUST_UNAVAILABLE otherwise.
        """
        pem = cert.public_bytes(serialization.Encoding.PEM)
        result = self.run(
            [*self.command, "--import-certificates"], pem, label="CertStore --import-certificates"
        )
        if result.exit_code != 0:
            detail = (result.stderr or result.stdout).decode("utf-8", "replace").strip()
            first = detail.splitlines()[0] if detail else "no output"
            raise CaError(
                Code.TRUST_FAILED, reason=f"CertStore exited with {result.exit_code}: {first}"
            )


def _left(deadline: float) -> float:
    """Seconds left before ``deadline``; TimeoutError when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _explanation(exc: Any) -> str:
    """The engine's own words from an APIError (its JSON ``message``), else its first line."""
    explanation = getattr(exc, "explanation", None)
    return str(explanation).strip() if explanation else _first_line(exc)


def _connection_words(exc: BaseException) -> str:
    """The system's words for a failed connection (``Connection refused``), else the first line.

    The SDK wraps the socket's error in requests' and urllib3's (as cause, context or
    argument); the innermost ``OSError`` with a message says what happened.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending += [current.__cause__, current.__context__, *current.args]
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
