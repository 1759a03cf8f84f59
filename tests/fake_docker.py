"""A fake Docker Engine on a unix socket, standard library only (test-infrastructure §3, App. A).

It speaks enough of the Engine API for docker-py 7.x's low-level exec flow, over HTTP/1.1
with keep-alive, exactly as a real engine does:

- ``GET /_ping``, ``GET /version`` (``ApiVersion`` 1.45);
- ``GET /containers/{id}/json``: 404 for an unknown container;
- ``POST /containers/{id}/exec``: 201 with an exec id; 404 unknown, 409 not running;
- ``POST /exec/{id}/start``: ``101 UPGRADED`` (headers flushed on their own, pitfall 5),
  then the hijacked stream: the command's stdin is read until the client shuts its write
  half, the command runs, its output goes back as multiplexed frames, and the server
  closes the stream;
- ``GET /exec/{id}/json``: ``Running`` and ``ExitCode``.

Commands never run on this host: a command runs only when a handler is registered for its
``argv[0]`` (the container's "binaries"); anything else fails as runc would (exit 127).
:class:`CertStoreStandIn` is such a handler: CipherMail's CertStore, importing into the test
PostgreSQL djigzo database through :mod:`tests.engine.certstore_standin`.

Every request and every exec is recorded for assertions. Knobs: stop or remove the
container, stall chosen endpoints (a hung engine), and the stand-in's own modes. Nothing
sleeps: a stall or a hanging command waits on :attr:`FakeDockerEngine.release`, which the
fixture sets at teardown.
"""

from __future__ import annotations

import json
import re
import socketserver
import struct
import sys
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.engine import certstore_standin as standin

API_VERSION = "1.45"
RELEASE_CAP_S = 120.0
"""A stalled request or hanging command that nobody releases still ends."""

ExecHandler = Callable[[Sequence[str], bytes], tuple[int, bytes, bytes]]
"""``(argv, stdin) -> (exit code, stdout, stderr)``: a "binary" inside the container."""


@dataclass
class Container:
    """A container as ``GET /containers/{id}/json`` shows it."""

    name: str
    id: str
    running: bool = True
    status: str = "running"

    def as_json(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": f"/{self.name}",
            "State": {"Status": self.status, "Running": self.running},
            "Config": {"Tty": False, "Image": "ciphermail/ciphermail-community"},
        }


@dataclass(frozen=True)
class LoggedRequest:
    """One HTTP request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        """The path without the ``/vX.Y`` prefix and the query."""
        return re.sub(r"^/v\d+\.\d+", "", self.path.split("?", 1)[0])


@dataclass
class ExecRecord:
    """One exec instance: what was asked, what the command read, what it returned."""

    id: str
    container: Container
    config: dict[str, Any]
    started: bool = False
    running: bool = False
    stdin: bytes = b""
    stdin_closed: bool = False
    """Whether the client shut its write half (the command saw EOF)."""
    exit_code: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def argv(self) -> list[str]:
        return list(self.config.get("Cmd") or [])


def frame(stream: int, data: bytes) -> bytes:
    """One frame of Docker's multiplexed stream: ``[stream, 0, 0, 0, len BE32] + data``."""
    return struct.pack(">BxxxL", stream, len(data)) + data


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    engine: FakeDockerEngine

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            self.engine.clients_gone += 1  # the client left first (its deadline passed)
        else:
            self.engine.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Idle keep-alive connections and stdin reads give up eventually.
    timeout = RELEASE_CAP_S

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: the engine keeps its own log."""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_HEAD(self) -> None:
        self._route("HEAD")

    # --- plumbing ----------------------------------------------------------------------

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Api-Version", API_VERSION)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, document: Any) -> None:
        self._send(code, json.dumps(document).encode(), "application/json")

    def _error(self, code: int, message: str) -> None:
        self._json(code, {"message": message})

    def _route(self, method: str) -> None:
        engine = self.server.engine
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = LoggedRequest(method, self.path, dict(self.headers.items()), body)
        with engine.lock:
            engine.requests.append(request)
        route = request.route
        if engine.delay_s:  # a slow engine (simulated latency, cut short at teardown)
            engine.release.wait(engine.delay_s)
        if any(re.fullmatch(p, route) for p in engine.stall_routes):
            engine.release.wait(RELEASE_CAP_S)
            self.close_connection = True
            return
        if method in ("GET", "HEAD") and route == "/_ping":
            self._send(200, b"OK", "text/plain")
            return
        if method == "GET" and route == "/version":
            self._json(
                200,
                {
                    "ApiVersion": API_VERSION,
                    "MinAPIVersion": "1.24",
                    "Version": "27.0.0-fake",
                    "Os": "linux",
                    "Arch": "amd64",
                },
            )
            return
        endpoints: list[tuple[str, str, Callable[[str, bytes], None]]] = [
            ("GET", r"/containers/([^/]+)/json", self._inspect_container),
            ("POST", r"/containers/([^/]+)/exec", self._exec_create),
            ("POST", r"/exec/([^/]+)/start", self._exec_start),
            ("GET", r"/exec/([^/]+)/json", self._exec_inspect),
        ]
        for verb, pattern, endpoint in endpoints:
            match = re.fullmatch(pattern, route)
            if match and method == verb:
                endpoint(match.group(1), body)
                return
        self._error(404, f"page not found: {method} {route}")

    # --- endpoints -------------------------------------------------------------------

    def _inspect_container(self, ref: str, body: bytes) -> None:
        container = self.server.engine.find(ref)
        if container is None:
            self._error(404, f"No such container: {ref}")
        else:
            self._json(200, container.as_json())

    def _exec_create(self, ref: str, body: bytes) -> None:
        engine = self.server.engine
        container = engine.find(ref)
        if container is None:
            self._error(404, f"No such container: {ref}")
            return
        if not container.running:
            self._error(409, f"Container {container.id} is not running")
            return
        config = json.loads(body or b"{}")
        record = ExecRecord(uuid.uuid4().hex + uuid.uuid4().hex, container, config)
        with engine.lock:
            engine.execs[record.id] = record
        self._json(201, {"Id": record.id})

    def _exec_inspect(self, exec_id: str, body: bytes) -> None:
        record = self.server.engine.execs.get(exec_id)
        if record is None:
            self._error(404, f"No such exec instance: {exec_id}")
            return
        argv = record.argv
        self._json(
            200,
            {
                "ID": record.id,
                "ContainerID": record.container.id,
                "Running": record.running,
                "ExitCode": record.exit_code,
                "OpenStdin": bool(record.config.get("AttachStdin")),
                "ProcessConfig": {
                    "tty": bool(record.config.get("Tty")),
                    "entrypoint": argv[0] if argv else "",
                    "arguments": argv[1:],
                },
            },
        )

    def _exec_start(self, exec_id: str, body: bytes) -> None:
        engine = self.server.engine
        record = engine.execs.get(exec_id)
        if record is None:
            self._error(404, f"No such exec instance: {exec_id}")
            return
        if not record.container.running:
            self._error(409, f"Container {record.container.id} is not running")
            return
        if record.started:
            self._error(409, f"Exec {exec_id} has already run")
            return
        options = json.loads(body or b"{}")
        if options.get("Detach"):
            self._error(501, "the fake engine does not detach execs")
            return
        hijack = self.headers.get("Upgrade", "").lower() == "tcp"
        record.started = record.running = True
        # The headers go out in a write of their own: a client that reads the 101 through a
        # buffer would otherwise swallow the first frame (docker-py issue 3332, pitfall 5).
        if hijack:
            self.send_response(101, "UPGRADED")
            self.send_header("Content-Type", "application/vnd.docker.multiplexed-stream")
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "tcp")
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.docker.multiplexed-stream")
        self.end_headers()
        self.wfile.flush()
        if hijack and record.config.get("AttachStdin"):
            chunks = []
            while True:
                try:
                    chunk = self.rfile.read1(65536)
                except OSError:
                    break
                if not chunk:
                    record.stdin_closed = True
                    break
                chunks.append(chunk)
            record.stdin = b"".join(chunks)
        argv = record.argv
        handler = engine.handlers.get(argv[0]) if argv else None
        if handler is None:
            name = argv[0] if argv else ""
            code, out, err = (
                127,
                b"",
                (
                    "OCI runtime exec failed: exec failed: unable to start container process: "
                    f'exec: "{name}": stat {name}: no such file or directory: unknown\n'
                ).encode(),
            )
        else:
            code, out, err = handler(argv, record.stdin)
        record.stdout, record.stderr = out, err
        record.exit_code, record.running = code, False
        payload = b""
        if out and record.config.get("AttachStdout", True):
            payload += frame(1, out)
        if err and record.config.get("AttachStderr", True):
            payload += frame(2, err)
        try:
            if payload:
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            # The client gave up (its deadline passed) before the command ended.
            with engine.lock:
                engine.abandoned.append(record.id)
        self.close_connection = True  # the end of the hijacked stream is the command's end


class FakeDockerEngine:
    """A fake engine serving on ``<folder>/docker.sock`` in daemon threads.

    Args:
        folder: Where the socket goes (a short path: unix sockets allow ~107 bytes).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder or tempfile.mkdtemp(prefix="fake-docker-", dir="/tmp"))
        self.socket_path = self.folder / "docker.sock"
        self.lock = threading.Lock()
        self.containers: dict[str, Container] = {}
        self.requests: list[LoggedRequest] = []
        self.execs: dict[str, ExecRecord] = {}
        self.handlers: dict[str, ExecHandler] = {}
        self.errors: list[str] = []
        """Tracebacks raised in handler threads (a test asserts there are none)."""
        self.clients_gone = 0
        """Answers that found their client gone (it gave up first)."""
        self.abandoned: list[str] = []
        """Execs whose client left before the command ended (its deadline passed)."""
        self.stall_routes: list[str] = []
        """Regular expressions of routes (``/version``...) that never answer until release."""
        self.delay_s = 0.0
        """Seconds every answer takes (a slow engine)."""
        self.release = threading.Event()
        """Set at :meth:`stop`: ends every stall and every hanging command."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The ``docker_url`` of this engine."""
        return f"unix://{self.socket_path}"

    def start(self) -> FakeDockerEngine:
        """Listen and serve in a daemon thread."""
        self.socket_path.unlink(missing_ok=True)
        server = _Server(str(self.socket_path), _Handler)
        server.engine = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release stalls and hangs, stop serving, remove the socket."""
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.socket_path.unlink(missing_ok=True)

    # --- containers ------------------------------------------------------------------

    def add_container(self, name: str = "hermes_ciphermail", *, running: bool = True) -> Container:
        """A container by that name (running unless told otherwise)."""
        container = Container(name, uuid.uuid4().hex + uuid.uuid4().hex)
        if not running:
            container.running, container.status = False, "exited"
        self.containers[name] = container
        return container

    def stop_container(self, name: str = "hermes_ciphermail") -> None:
        """The container exits (``docker stop``)."""
        container = self.containers[name]
        container.running, container.status = False, "exited"

    def start_container(self, name: str = "hermes_ciphermail") -> None:
        """The container runs again (``docker start``)."""
        container = self.containers[name]
        container.running, container.status = True, "running"

    def remove_container(self, name: str = "hermes_ciphermail") -> None:
        """The container is gone (``docker rm``)."""
        del self.containers[name]

    def find(self, ref: str) -> Container | None:
        """A container by name, id, or id prefix (12 characters or more)."""
        for container in self.containers.values():
            if ref in (container.name, container.id):
                return container
            if len(ref) >= 12 and container.id.startswith(ref):
                return container
        return None

    # --- what happened ---------------------------------------------------------------

    def exec_records(self) -> list[ExecRecord]:
        """Every exec created, oldest first."""
        with self.lock:
            return list(self.execs.values())

    def routes(self) -> list[str]:
        """``METHOD /route`` of every request, oldest first."""
        with self.lock:
            return [f"{r.method} {r.route}" for r in self.requests]


@dataclass
class StandInRun:
    """One CertStore run seen by the stand-in."""

    argv: list[str]
    stdin: bytes
    outcome: standin.Outcome


@dataclass
class CertStoreStandIn:
    """CipherMail's CertStore inside the fake container (registered for its argv).

    Args:
        command: CertStore's argv prefix (the profile's ``certstore``).
        settings: Database and knobs (see :mod:`tests.engine.certstore_standin`).
        release: Ends a ``hang`` (the engine's :attr:`FakeDockerEngine.release`).
    """

    command: tuple[str, ...]
    settings: standin.Settings
    release: threading.Event
    runs: list[StandInRun] = field(default_factory=list)
    hanging: threading.Event = field(default_factory=threading.Event)
    """Set when a run starts to hang (a test can wait for it)."""
    after_run: Callable[[StandInRun], None] | None = None
    """Called after the database work, before the exit code goes back (crash tests)."""

    def __call__(self, argv: Sequence[str], stdin: bytes) -> tuple[int, bytes, bytes]:
        if tuple(argv[: len(self.command)]) != self.command:
            return 127, b"", f"no such command: {list(argv)}\n".encode()

        def wait() -> bool:
            self.hanging.set()
            return self.release.wait(RELEASE_CAP_S)

        outcome = standin.respond(argv[len(self.command) :], stdin, self.settings, wait)
        run = StandInRun(list(argv), stdin, outcome)
        self.runs.append(run)
        if self.after_run is not None:
            self.after_run(run)
        return outcome.exit_code, outcome.stdout, outcome.stderr


def install_certstore(
    engine: FakeDockerEngine, command: Sequence[str], dsn: str
) -> CertStoreStandIn:
    """Register a CertStore stand-in importing into ``dsn`` for ``command``."""
    certstore = CertStoreStandIn(tuple(command), standin.Settings(dsn=dsn), engine.release)
    engine.handlers[command[0]] = certstore
    return certstore
