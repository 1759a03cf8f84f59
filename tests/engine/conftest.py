"""The real-engine tier: podman's Docker-compatible API with a ``hermes_ciphermail`` container.

A session fixture starts everything in one throwaway folder (test-infrastructure §3.5) and
leaves the machine's own podman storage alone:

- ``containers.conf`` (runc, ulimits the VM allows, no network, cgroupfs, no events log,
  temp files in the folder) and ``storage.conf`` (vfs driver, graph and run roots in the
  folder), passed by ``CONTAINERS_CONF`` / ``CONTAINERS_STORAGE_CONF``;
- an image imported from a minimal rootfs (folders and the ``bin``/``lib`` symlinks only);
  the host's ``/usr`` and ``/etc``, the interpreter, the repository (with its virtualenv)
  and the PostgreSQL socket folder are bind-mounted, so that the project's own Python
  runs the CertStore stand-in (``certstore_standin.py``) inside the container;
- ``podman system service`` on a unix socket in the folder.

Teardown removes the container, stops the service and kills, by PID, every process whose
command line names the folder (conmon lingers ~300 s after each exec otherwise).

When the engine cannot start, the tests are skipped with the reason (``-ra`` prints it);
with ``HERMES_CA_TUI_REQUIRE_ENGINE=1`` (CI) that is a failure instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
import pytest

from hermes_ca_tui.core.session import Profile
from tests.engine.certstore_standin import Settings
from tests.support import REPO

REQUIRE_ENV = "HERMES_CA_TUI_REQUIRE_ENGINE"
TMP_ENV = "HERMES_CA_TUI_ENGINE_TMP"
"""Where the engine's folder goes (``.ci/run`` names one, to find leftovers by it)."""
IMAGE = "localhost/hermes-mini:latest"
CONTAINER = "hermes_ciphermail"
STANDIN_DIR = "/standin"
SCRIPT = REPO / "tests" / "engine" / "certstore_standin.py"
START_TIMEOUT_S = 60.0


class EngineUnavailable(Exception):
    """Why the engine could not be started here."""


@dataclass
class PodmanEngine:
    """A running podman service and its ``hermes_ciphermail`` container."""

    base: Path
    env: dict[str, str]
    service: subprocess.Popen[bytes]
    state_dir: Path
    containers: list[str] = field(default_factory=list)

    @property
    def socket_path(self) -> Path:
        return self.base / "podman.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def certstore(self) -> tuple[str, ...]:
        """The CertStore command inside the container: our interpreter runs the stand-in."""
        return (sys.executable, str(SCRIPT), "--config", f"{STANDIN_DIR}/config.json")

    @property
    def release_file(self) -> Path:
        """Ends a ``hang`` of the stand-in (inside: ``/standin/release``)."""
        return self.state_dir / "release"

    def configure(self, settings: Settings) -> None:
        """Point the stand-in at a database and set its knobs (atomically)."""
        self.release_file.unlink(missing_ok=True)
        if settings.mode == "hang":
            settings = replace(settings, release_file=f"{STANDIN_DIR}/release")
        temp = self.state_dir / "config.json.tmp"
        temp.write_text(settings.to_json(), encoding="utf-8")
        temp.replace(self.state_dir / "config.json")

    def podman(
        self, *args: str, stdin: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        """Run the podman CLI against this engine's storage (argv list, no shell)."""
        return subprocess.run(
            ["podman", *args],
            input=stdin,
            capture_output=True,
            env=self.env,
            timeout=timeout,
            check=False,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )


def _write_configs(base: Path) -> dict[str, str]:
    (base / "tmp").mkdir()
    containers_conf = base / "containers.conf"
    containers_conf.write_text(
        "[containers]\n"
        'default_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]\n'
        'netns = "none"\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "none"\n'
        f'tmp_dir = "{base}/libpod"\n'
        f'image_copy_tmp_dir = "{base}/tmp"\n'
        "[network]\n"
        f'network_config_dir = "{base}/networks"\n'
    )
    storage_conf = base / "storage.conf"
    storage_conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{base}/graph"\nrunroot = "{base}/run"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTAINERS_", "DOCKER_"))}
    env.update(
        CONTAINERS_CONF=str(containers_conf),
        CONTAINERS_STORAGE_CONF=str(storage_conf),
        TMPDIR=str(base / "tmp"),
    )
    return env


def _rootfs_tar() -> bytes:
    """A root filesystem of empty folders and the usr-merge symlinks, as a tar stream."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("usr", "etc", "tmp", "proc", "sys", "dev", "run", STANDIN_DIR.strip("/")):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        for link in ("bin", "lib", "lib64", "sbin"):
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, f"usr/{link}"
            tar.addfile(info)
    return buffer.getvalue()


def _mounts(pg_socket_dir: str, state_dir: Path) -> list[str]:
    """``-v`` arguments: the host's system, our interpreter and repository, the DB socket."""
    read_only = ["/usr", "/etc"]
    for candidate in (
        REPO,
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve().parent,
    ):
        path = str(candidate)
        if not any(path == m or path.startswith(m.rstrip("/") + "/") for m in read_only):
            read_only.append(path)
    args = []
    for path in read_only:
        args += ["-v", f"{path}:{path}:ro"]
    args += ["-v", f"{pg_socket_dir}:{pg_socket_dir}", "-v", f"{state_dir}:{STANDIN_DIR}"]
    return args


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-limit:].strip()
    except OSError:
        return ""


def _wait_for_api(engine: PodmanEngine, log: Path) -> None:
    import docker

    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no socket yet"
    while time.monotonic() < deadline:
        if engine.service.poll() is not None:
            raise EngineUnavailable(
                f"podman system service exited with {engine.service.returncode}: {_tail(log)}"
            )
        if engine.socket_path.exists():
            try:
                docker.APIClient(base_url=engine.url, version="1.41", timeout=5).ping()
                return
            except Exception as exc:  # not ready yet
                last = str(exc)
        time.sleep(0.05)
    raise EngineUnavailable(f"the podman API did not answer in {START_TIMEOUT_S:.0f} s: {last}")


def _check(result: subprocess.CompletedProcess[bytes], what: str) -> None:
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).decode(errors="replace").strip()[-1500:]
        raise EngineUnavailable(f"{what} failed (exit {result.returncode}): {detail}")


def start_engine(base: Path, pg_socket_dir: str) -> PodmanEngine:
    """Start the service and the container; raise EngineUnavailable saying why not."""
    missing = [tool for tool in ("podman", "runc", "conmon") if shutil.which(tool) is None]
    if missing:
        raise EngineUnavailable(f"{', '.join(missing)} not installed (apt-get install podman runc)")
    env = _write_configs(base)
    state_dir = base / "standin"
    state_dir.mkdir()
    log = base / "service.log"
    with log.open("wb") as sink:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{base / 'podman.sock'}"],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    engine = PodmanEngine(base, env, service, state_dir)
    try:
        _check(engine.podman("import", "-", IMAGE, stdin=_rootfs_tar()), "podman import")
        _wait_for_api(engine, log)
        engine.containers.append(CONTAINER)
        run = engine.podman(
            "run",
            "-d",
            "--name",
            CONTAINER,
            *_mounts(pg_socket_dir, state_dir),
            IMAGE,
            "/usr/bin/sleep",
            "infinity",
        )
        _check(run, "podman run")
        smoke = engine.podman(
            "exec", CONTAINER, sys.executable, "-c", "import cryptography, psycopg; print('ok')"
        )
        _check(smoke, "running the project's Python in the container")
    except BaseException:
        stop_engine(engine)
        raise
    return engine


def leftover_pids(base: Path) -> list[int]:
    """Processes whose command line names the engine's folder (ours, and only ours)."""
    marker = str(base).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def stop_engine(engine: PodmanEngine) -> None:
    """Remove the containers, stop the service, kill leftovers by PID, delete the folder."""
    for name in engine.containers:
        engine.podman("rm", "-f", "-t", "0", name, timeout=60)
    if engine.service.poll() is None:
        engine.service.terminate()
        try:
            engine.service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            engine.service.kill()
            engine.service.wait(timeout=15)
    deadline = time.monotonic() + 15
    while (pids := leftover_pids(engine.base)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    with open("/proc/mounts") as mounts:
        inside = [line.split()[1] for line in mounts if str(engine.base) in line.split()[1]]
    for point in sorted(inside, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    shutil.rmtree(engine.base, ignore_errors=True)


def _socket_dir(dsn: str) -> str:
    host = str(psycopg.conninfo.conninfo_to_dict(dsn).get("host") or "")
    if not host.startswith("/"):
        raise EngineUnavailable(
            f"PostgreSQL is reached at {host or 'the default socket'!r}, not a socket folder "
            "the container could mount (it has no network)"
        )
    return host


@pytest.fixture(scope="session")
def podman_engine(pg_server: str) -> Iterator[PodmanEngine]:
    """The podman service with a running ``hermes_ciphermail`` container, for the session."""
    parent = os.environ.get(TMP_ENV) or "/tmp"
    base = Path(tempfile.mkdtemp(prefix="hermes-engine-", dir=parent))
    try:
        engine = start_engine(base, _socket_dir(pg_server))
    except EngineUnavailable as exc:
        shutil.rmtree(base, ignore_errors=True)
        reason = f"podman engine unavailable: {exc}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    try:
        yield engine
    finally:
        stop_engine(engine)
    assert leftover_pids(base) == [], "podman processes survived the teardown"


@pytest.fixture
def engine_profile(pg_profile: Profile, podman_engine: PodmanEngine) -> Profile:
    """The PostgreSQL profile in docker mode at podman; CertStore imports into its djigzo."""
    podman_engine.configure(Settings(dsn=pg_profile.djigzo_url))
    return replace(
        pg_profile,
        bridge_mode="docker",
        docker_url=podman_engine.url,
        container=CONTAINER,
        certstore=podman_engine.certstore,
        docker_timeout=30.0,
    )
