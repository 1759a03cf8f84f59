"""Crash safety with the CipherMail bridge in docker mode, on PostgreSQL.

Each scenario clones a prepared appliance (two CAs, "Alpha Root" the default: PostgreSQL
databases cloned from templates, the CA root copied), runs one operation through the CLI
with ``--config`` (docker mode at a fake engine that runs in this test process, whose
CertStore stand-in writes into the scenario's djigzo database) and
``HERMES_CA_TUI_CRASH_AT=<step>``, so that the process kills itself there. Then the next
start (``doctor --json``) must have recovered: no trust entry without a CA, no CA without
its trust entry, doctor clean, journal empty.

The steps that matter most here: ``*.trusted`` (CertStore's import is done and the row is
a root, but our transaction has not committed), ``*.committed`` and ``renew.new_trusted``
(the reverse), and ``*.during_import``: the process killed while CertStore is still
running (the stand-in kills it right after inserting CipherMail's row, before that row
is moved to the roots store).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.session import Profile, init_schema, open_service
from hermes_ca_tui.core.trust.docker_importer import CERTSTORE_COMMAND
from tests.engine.certstore_standin import import_certificates
from tests.fake_docker import CertStoreStandIn, FakeDockerEngine, StandInRun, install_certstore
from tests.postgres_server import create_database, drop_database, with_dbname
from tests.support import REPO, build_cert, create_args, create_request, rsa_key, write_pair
from tests.trust_support import Stores, assert_one_truth, pem_of, read_stores, thumbprint_of

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.postgres]

ALPHA = "Alpha Root"
BETA = "Beta Root"
NEW_CREATED = "Gamma Root"
NEW_IMPORTED = "Delta Import"
FORWARD = "recovered-forward"
BACKWARD = "rolled-back"
OPERATIONS = ("create", "import", "renew", "delete")

STEPS = [(op, step) for op in OPERATIONS for step in faults.STEPS[op]]
# Killed while CertStore runs: its row exists (default store), nothing else happened yet.
DURING_IMPORT = [(op, f"{op}.during_import") for op in ("create", "import", "renew")]
# The imported certificate was already known to CipherMail (in its default store).
KNOWN = [("import", "import.trusted+known"), ("import", "import.committed+known")]
SCENARIOS = STEPS + DURING_IMPORT + KNOWN


def expected_outcome(operation: str, step: str) -> str:
    steps = faults.STEPS[operation]
    if step not in steps:
        return BACKWARD
    committed = next(i for i, s in enumerate(steps) if s.endswith(".committed"))
    return FORWARD if steps.index(step) >= committed else BACKWARD


@cache
def delta_material() -> tuple[Any, Any]:
    """The certificate and key every import scenario uses (one certificate, one serial)."""
    key = rsa_key(2048, 7)
    return build_cert("Delta Import CA", key), key


# --- the template appliance and its clones ---------------------------------------------


@dataclass(frozen=True)
class Appliance:
    """An appliance profile: a CA root folder and two PostgreSQL databases."""

    profile: Profile
    folder: Path


_CLONE_LOCK = threading.Lock()


def _clone_database(server: str, template_dsn: str, prefix: str) -> str:
    """A copy of a template database (``CREATE DATABASE ... TEMPLATE``)."""
    template = psycopg.conninfo.conninfo_to_dict(template_dsn)["dbname"]
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _CLONE_LOCK, psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_dbname(server, name)


def _profile(folder: Path, hermes: str, djigzo: str, engine: FakeDockerEngine) -> Profile:
    return Profile(
        label=str(folder),
        ca_root=folder / "CA",
        security_conf=folder / "security.conf",
        audit_log=folder / "audit.jsonl",
        hermes_url=hermes,
        djigzo_url=djigzo,
        bridge_mode="docker",
        docker_url=engine.url,
        docker_timeout=30.0,
        embedded=False,
    )


def _config(profile: Profile, path: Path) -> Path:
    from tests.trust_support import write_config

    return write_config(profile, path)


@dataclass
class CrashRun:
    operation: str
    step: str
    before: Stores
    crash: subprocess.CompletedProcess[str]
    journal: list[dict[str, Any]]
    at_crash: Stores
    restart: subprocess.CompletedProcess[str]
    after: Stores
    audit: subprocess.CompletedProcess[str]
    certstore_runs: list[StandInRun]
    engine_errors: list[str]

    @property
    def entry_data(self) -> dict[str, Any]:
        assert len(self.journal) == 1, self.journal
        return dict(self.journal[0]["data"])


def _run(
    config: Path, args: list[str], env: dict[str, str], certstore: CertStoreStandIn | None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess; with ``certstore``, killed right after CertStore's insert."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_CA_TUI_")}
    full_env.update(env)
    argv = [sys.executable, "-m", "hermes_ca_tui", "--config", str(config), *args]
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=REPO,
    ) as proc:
        if certstore is not None:

            def kill_caller(run: StandInRun) -> None:
                os.kill(proc.pid, signal.SIGKILL)

            certstore.after_run = kill_caller
        try:
            out, err = proc.communicate(timeout=180)
        finally:
            if certstore is not None:
                certstore.after_run = None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _command(operation: str, folder: Path) -> list[str]:
    if operation == "create":
        return create_args(NEW_CREATED)
    if operation == "import":
        cert, key = delta_material()
        files = write_pair(folder / "input", cert, key)
        return [
            "import",
            "--name",
            NEW_IMPORTED,
            "--cert",
            str(files.cert),
            "--key",
            str(files.key),
            "--yes",
            "--json",
        ]
    if operation == "renew":
        return ["renew", ALPHA, "--yes", "--json"]
    if operation == "delete":
        return ["delete", ALPHA, "--yes", "--json"]
    raise AssertionError(operation)


def run_scenario(
    server: str, template: Appliance, folder: Path, operation: str, step: str
) -> CrashRun:
    """Clone the template, crash the operation at ``step``, start again."""
    engine = FakeDockerEngine().start()
    engine.add_container("hermes_ciphermail")
    hermes = _clone_database(server, template.profile.hermes_url, "crash_hermes")
    djigzo = _clone_database(server, template.profile.djigzo_url, "crash_djigzo")
    try:
        shutil.copytree(template.profile.ca_root, folder / "CA", symlinks=True)
        for name in ("security.conf", "audit.jsonl"):
            shutil.copy2(template.folder / name, folder / name)
        profile = _profile(folder, hermes, djigzo, engine)
        config = _config(profile, folder / "hermes-ca-tui.toml")
        certstore = install_certstore(engine, CERTSTORE_COMMAND, djigzo)
        base_step, _, variant = step.partition("+")
        if variant == "known":
            cert, _ = delta_material()
            assert import_certificates(pem_of(cert), djigzo).exit_code == 0
        before = read_stores(profile)
        args = _command(operation, folder)
        if base_step.endswith(".during_import"):
            crash = _run(config, args, {}, certstore)
        else:
            crash = _run(config, args, {faults.ENV: base_step}, None)
        journal_dir = profile.ca_root / ".hermes-ca-tui" / "journal"
        journal = [json.loads(p.read_text()) for p in sorted(journal_dir.glob("*.json"))]
        at_crash = read_stores(profile)
        restart = _run(config, ["doctor", "--json"], {}, None)
        after = read_stores(profile)
        audit = _run(config, ["audit", "verify", "--json"], {}, None)
        return CrashRun(
            operation=operation,
            step=step,
            before=before,
            crash=crash,
            journal=journal,
            at_crash=at_crash,
            restart=restart,
            after=after,
            audit=audit,
            certstore_runs=list(certstore.runs),
            engine_errors=list(engine.errors),
        )
    finally:
        engine.stop()
        shutil.rmtree(engine.folder, ignore_errors=True)
        drop_database(server, hermes)
        drop_database(server, djigzo)


@pytest.fixture(scope="module")
def template(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """The appliance every scenario starts from: Alpha (default) and Beta, trusted."""
    folder = tmp_path_factory.mktemp("crash-template")
    delta_material()  # made once, before the scenarios' threads share it
    engine = FakeDockerEngine().start()
    engine.add_container("hermes_ciphermail")
    hermes = create_database(pg_server, "tmpl_hermes")
    djigzo = create_database(pg_server, "tmpl_djigzo")
    profile = _profile(folder, hermes, djigzo, engine)
    init_schema(profile)
    install_certstore(engine, CERTSTORE_COMMAND, djigzo)
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=no\n")
    service = open_service(profile)
    try:
        service.create(create_request(ALPHA))
        service.create(create_request(BETA, organization="Beta Org"))
    finally:
        service.close()
        engine.stop()
        shutil.rmtree(engine.folder, ignore_errors=True)
    assert_one_truth(read_stores(profile))
    yield Appliance(profile, folder)
    drop_database(pg_server, hermes)
    drop_database(pg_server, djigzo)


@pytest.fixture(scope="module")
def crash_runs(
    request: pytest.FixtureRequest,
    pg_server: str,
    template: Appliance,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[CrashRun]]]:
    """Run the scenarios this session selected, in parallel; each test waits for its own."""
    wanted = sorted(
        {
            item.callspec.params["step"]
            for item in request.session.items
            if getattr(item, "module", None) is request.module
            and hasattr(item, "callspec")
            and "step" in item.callspec.params
        }
    )
    operation_of = {step: op for op, step in SCENARIOS}
    with ThreadPoolExecutor(max_workers=3) as pool:
        yield {
            step: pool.submit(
                run_scenario,
                pg_server,
                template,
                tmp_path_factory.mktemp(step.replace(".", "_").replace("+", "_")),
                operation_of[step],
                step,
            )
            for step in wanted
        }


def _describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"rc={proc.returncode}\nstdout={proc.stdout[-2000:]}\nstderr={proc.stderr[-2000:]}"


# --- what each operation must look like, rolled back or forward ---------------------------


def _alpha_tp(stores: Stores) -> str:
    return stores.tree_thumbprint(stores.rows[ALPHA.lower()].directory)


def check_outcome(run: CrashRun, outcome: str) -> None:
    before, after = run.before, run.after
    alpha_dir = before.rows[ALPHA.lower()].directory
    beta_dir = before.rows[BETA.lower()].directory
    assert after.trees.get(beta_dir) == before.trees[beta_dir], "Beta untouched"
    if run.operation in ("create", "import"):
        name = NEW_CREATED if run.operation == "create" else NEW_IMPORTED
        tp = str(run.entry_data["thumbprint"])
        if outcome == BACKWARD:
            assert after.rows == before.rows
            assert after.trees == before.trees
            assert after.by_thumbprint(tp) == before.by_thumbprint(tp)
            assert (tp in after.ctl) == (tp in before.ctl)
        else:
            assert set(after.rows) == set(before.rows) | {name.lower()}
            assert after.tree_thumbprint(after.rows[name.lower()].directory) == tp
            assert after.trusted(tp)
    elif run.operation == "renew":
        old_tp = _alpha_tp(before)
        new_tp = thumbprint_of(str(run.entry_data["new_cert"]).encode())
        if outcome == BACKWARD:
            assert after.trees == before.trees
            assert after.rows == before.rows
            assert after.trusted(old_tp), "the old certificate is still trusted"
            assert after.absent(new_tp)
        else:
            assert after.tree_thumbprint(alpha_dir) == new_tp
            assert after.trusted(new_tp)
            assert after.absent(old_tp)
    elif run.operation == "delete":
        tp = _alpha_tp(before)
        if outcome == BACKWARD:
            assert after.trees == before.trees
            assert after.archives == []
            assert set(after.rows) == set(before.rows)
            assert after.trusted(tp)
        else:
            assert ALPHA.lower() not in after.rows
            assert alpha_dir not in after.trees
            assert len(after.archives) == 1
            assert after.absent(tp)
            assert after.defaults() == [BETA]
    else:
        raise AssertionError(run.operation)


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize(("operation", "step"), SCENARIOS, ids=[s for _, s in SCENARIOS])
def test_crash_with_the_docker_bridge_is_recovered_on_next_start(
    crash_runs: dict[str, Future[CrashRun]], operation: str, step: str
) -> None:
    run = crash_runs[step].result()
    outcome = expected_outcome(operation, step.partition("+")[0])

    # The process died by SIGKILL at that step, leaving its journal entry.
    assert run.crash.returncode == -signal.SIGKILL, _describe(run.crash)
    assert len(run.journal) == 1
    new_tp = (
        thumbprint_of(str(run.entry_data["new_cert"]).encode())
        if operation == "renew"
        else str(run.entry_data.get("thumbprint", ""))
    )
    # The states the crash points promise, as the stores showed them at the crash.
    if step.endswith(".during_import"):
        assert [r.outcome.exit_code for r in run.certstore_runs[-1:]] == [0]
        assert run.at_crash.stores_of(new_tp) == ["certificates"], "imported, not yet a root"
        assert new_tp not in run.at_crash.ctl
    if step in ("create.trusted", "import.trusted", "import.trusted+known", "renew.new_trusted"):
        assert run.at_crash.trusted(new_tp), "CertStore's import is done and trusted"
        assert len(run.at_crash.rows) == len(run.before.rows), "not committed"
    if step.endswith(".committed") and operation in ("create", "import"):
        assert len(run.at_crash.rows) == len(run.before.rows) + 1

    # The next start recovered, and doctor (run by that start) finds nothing.
    assert run.restart.returncode == 0, _describe(run.restart)
    assert json.loads(run.restart.stdout) == {"ok": True, "findings": []}
    check_outcome(run, outcome)
    # No trust entry without a CA, no CA without its trust entry, nothing pending.
    foreign = frozenset({new_tp}) if step.endswith("+known") else frozenset()
    assert_one_truth(run.after, foreign=foreign)
    assert run.after.staging == []
    assert run.audit.returncode == 0, _describe(run.audit)
    assert run.engine_errors == []


@pytest.mark.parametrize("step", ["import.trusted+known"])
def test_an_import_undone_gives_back_the_certificate_ciphermail_knew(
    crash_runs: dict[str, Future[CrashRun]], step: str
) -> None:
    """CipherMail held the certificate before (default store): it keeps it, untrusted."""
    run = crash_runs[step].result()
    cert, _ = delta_material()
    tp = thumbprint_of(cert)
    assert run.before.stores_of(tp) == ["certificates"]
    assert replace(run.after.by_thumbprint(tp)[0], store="x") == replace(
        run.before.by_thumbprint(tp)[0], store="x"
    )
    assert run.after.stores_of(tp) == ["certificates"], "back where CipherMail had it"
    assert tp not in run.after.ctl, "not trusted: no CA uses it"


def test_recovery_waits_for_the_engine_and_finishes_when_it_is_back(
    pg_server: str, template: Appliance, tmp_path: Path
) -> None:
    """A delete killed after the untrust, restarted while the container is down."""
    engine = FakeDockerEngine().start()
    engine.add_container("hermes_ciphermail")
    hermes = _clone_database(pg_server, template.profile.hermes_url, "crash_hermes")
    djigzo = _clone_database(pg_server, template.profile.djigzo_url, "crash_djigzo")
    try:
        shutil.copytree(template.profile.ca_root, tmp_path / "CA", symlinks=True)
        for name in ("security.conf", "audit.jsonl"):
            shutil.copy2(template.folder / name, tmp_path / name)
        profile = _profile(tmp_path, hermes, djigzo, engine)
        config = _config(profile, tmp_path / "hermes-ca-tui.toml")
        certstore = install_certstore(engine, CERTSTORE_COMMAND, djigzo)
        before = read_stores(profile)
        alpha_tp = _alpha_tp(before)

        crash = _run(config, _command("delete", tmp_path), {faults.ENV: "delete.untrusted"}, None)
        assert crash.returncode == -signal.SIGKILL, _describe(crash)
        assert read_stores(profile).absent(alpha_tp)

        engine.stop_container("hermes_ciphermail")
        down = _run(config, ["doctor", "--json"], {}, None)
        while_down = read_stores(profile)
        assert len(while_down.journal) == 1, "recovery postponed, the entry kept"
        assert down.returncode == 3, _describe(down)
        codes = {f["code"] for f in json.loads(down.stdout)["findings"]}
        assert "NOT_TRUSTED" in codes
        assert certstore.runs == []

        engine.start_container("hermes_ciphermail")
        up = _run(config, ["doctor", "--json"], {}, None)
        assert up.returncode == 0, _describe(up)
        assert json.loads(up.stdout) == {"ok": True, "findings": []}
        after = read_stores(profile)
        assert_one_truth(after)
        assert after.trusted(alpha_tp)
        assert after.trees == before.trees
        assert [r.stdin for r in certstore.runs] == [
            before.trees[before.rows[ALPHA.lower()].directory]
        ]
    finally:
        engine.stop()
        shutil.rmtree(engine.folder, ignore_errors=True)
        drop_database(pg_server, hermes)
        drop_database(pg_server, djigzo)
    assert engine.errors == []
