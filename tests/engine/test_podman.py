"""The CipherMail bridge through a real engine: podman's Docker API, real hijacked streams.

CertStore is the stand-in script, run inside ``hermes_ciphermail`` by the project's own
interpreter; it writes CipherMail's row into the test PostgreSQL over the bind-mounted
socket. The lifecycle, the exec plumbing and the failures are the fake tier's, here with
a real engine's semantics (exec sessions, exit codes, what a stopped container says).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.session import Profile, open_service
from hermes_ca_tui.core.trust.docker_importer import DockerImporter
from hermes_ca_tui.messages import describe
from tests.engine.certstore_standin import Settings
from tests.engine.conftest import CONTAINER, IMAGE, PodmanEngine
from tests.support import create_request
from tests.trust_support import (
    assert_one_truth,
    read_stores,
    run_cli_config,
    run_lifecycle,
    write_config,
)

# The engine's fixture needs the PostgreSQL server too (its socket folder is mounted).
pytestmark = [pytest.mark.engine, pytest.mark.postgres, pytest.mark.slow]


def test_exec_with_stdin_through_the_real_engine(podman_engine: PodmanEngine) -> None:
    """Large binary stdin in, interleaved stdout/stderr out, the exit code back."""
    script = (
        "import hashlib, sys\n"
        "data = sys.stdin.buffer.read()\n"
        "for i in range(200):\n"
        "    print(f'line {i}', flush=True)\n"
        "    print(f'err {i}', file=sys.stderr, flush=True)\n"
        "print(len(data), hashlib.sha256(data).hexdigest())\n"
        "sys.exit(5)\n"
    )
    stdin = bytes(range(256)) * 2048
    importer = DockerImporter(podman_engine.url, CONTAINER, timeout=30)
    result = importer.run([sys.executable, "-c", script], stdin)
    assert result.exit_code == 5
    lines = result.stdout.decode().splitlines()
    assert lines[:200] == [f"line {i}" for i in range(200)]
    assert lines[200] == f"{len(stdin)} {hashlib.sha256(stdin).hexdigest()}"
    assert result.stderr.decode().splitlines() == [f"err {i}" for i in range(200)]


def test_the_whole_lifecycle_through_podman(engine_profile: Profile, tmp_path: Path) -> None:
    run = run_lifecycle(engine_profile, tmp_path / "work")
    assert len(run.imported) == 3
    assert_one_truth(run.final)
    # CipherMail's rows were written by CertStore in the container: its own columns.
    [beta] = run.final.cm
    assert beta.issuer == "CN=Beta Import CA" and beta.not_after


def test_config_check_through_podman(engine_profile: Profile, tmp_path: Path) -> None:
    config = write_config(engine_profile, tmp_path / "hermes-ca-tui.toml")
    result = run_cli_config(config, "config", "check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    stores = {s["name"]: s for s in json.loads(result.stdout)["stores"]}
    assert stores["ciphermail"] == {
        "name": "ciphermail",
        "ok": True,
        "detail": f"docker {engine_profile.docker_url} -> {CONTAINER}",
    }


@pytest.mark.parametrize("mode", ["fail", "silent", "hang"])
def test_a_certstore_failure_undoes_the_create(
    engine_profile: Profile, podman_engine: PodmanEngine, mode: str
) -> None:
    service = open_service(engine_profile)
    try:
        service.create(create_request("Alpha Root"))
    finally:
        service.close()
    before = read_stores(engine_profile)
    podman_engine.configure(Settings(dsn=engine_profile.djigzo_url, mode=mode))
    profile = replace(engine_profile, docker_timeout=2.0) if mode == "hang" else engine_profile
    service = open_service(profile)
    started = time.monotonic()
    try:
        with pytest.raises(CaError) as info:
            service.create(create_request("Gamma Root"))
    finally:
        service.close()
        podman_engine.release_file.touch()  # a hanging CertStore ends (killed, no row)
    elapsed = time.monotonic() - started
    text = describe(info.value).text
    if mode == "fail":
        assert info.value.code is Code.TRUST_FAILED
        assert "CertStore exited with 3: Exception in thread main java.sql.SQLException" in text
    elif mode == "silent":
        assert info.value.code is Code.TRUST_FAILED
        assert "did not appear in cm_certificates" in text
    else:
        assert info.value.code is Code.TRUST_UNAVAILABLE
        assert "CertStore --import-certificates did not finish within 2 s" in text
        assert elapsed < 15, elapsed
    assert read_stores(engine_profile) == before
    assert_one_truth(before)


def test_a_stopped_and_a_missing_container_are_named(
    engine_profile: Profile, podman_engine: PodmanEngine
) -> None:
    stopped = "hermes_stopped"
    podman_engine.containers.append(stopped)
    created = podman_engine.podman("create", "--name", stopped, IMAGE, "/usr/bin/sleep", "1")
    assert created.returncode == 0, created.stderr.decode()
    before = read_stores(engine_profile)
    for name, check_reason, import_reason in (
        (stopped, f"the container {stopped} is ", f"the container {stopped} is not running"),
        ("hermes_missing", "there is no container named hermes_missing", "there is no container"),
    ):
        importer = DockerImporter(podman_engine.url, name, timeout=10)
        with pytest.raises(CaError) as info:
            importer.check()
        assert info.value.code is Code.TRUST_UNAVAILABLE
        assert info.value.params["reason"].startswith(check_reason), info.value.params
        assert f"docker ps --filter name={name}" in info.value.params["hint"]
        service = open_service(replace(engine_profile, container=name))
        try:
            with pytest.raises(CaError) as info:
                service.create(create_request("Gamma Root"))
        finally:
            service.close()
        assert info.value.code is Code.TRUST_UNAVAILABLE
        assert info.value.params["reason"].startswith(import_reason), info.value.params
        assert read_stores(engine_profile) == before
