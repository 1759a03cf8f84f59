"""Crash safety: SIGKILL at every step of every mutating operation, then start again.

Each scenario copies a prepared data folder (two CAs, "Alpha Root" the default), runs one
operation in a CLI subprocess with ``HERMES_CA_TUI_CRASH_AT=<step>`` so that it kills
itself at that step, and starts the CLI again (which runs recovery). Steps before the
operation's ``committed`` step must roll back, the others must roll forward, across all
three stores: the ``ca_settings`` row, the OpenSSL tree and CipherMail's trust rows.

The scenarios are independent processes on independent folders, so one module fixture
runs them all in parallel and each test inspects its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.session import embedded_profile, open_service
from tests.core.stores import (
    CERT,
    CHAIN,
    KEY,
    STATE_DIR,
    StoreState,
    assert_audit_chain,
    assert_consistent,
    audit_records,
    key_matches_cert,
    not_after_of,
    snapshot,
    thumbprint_of,
)
from tests.support import build_cert, create_args, create_request, rsa_key, run_cli, write_pair

pytestmark = pytest.mark.slow

ALPHA = "Alpha Root"
BETA = "Beta Root"
NEW_CREATED = "Gamma Root"
NEW_IMPORTED = "Delta Import"

FORWARD = "recovered-forward"
BACKWARD = "rolled-back"

ALL_STEPS = [(op, step) for op, steps in faults.STEPS.items() for step in steps]


def _committed_index(operation: str) -> int:
    steps = faults.STEPS[operation]
    return next(i for i, s in enumerate(steps) if s.endswith(".committed"))


def expected_outcome(operation: str, step: str) -> str:
    """Steps before the operation's commit step roll back; the commit step and later, forward."""
    return (
        FORWARD if faults.STEPS[operation].index(step) >= _committed_index(operation) else BACKWARD
    )


# --- one crash scenario -----------------------------------------------------------------


@dataclass
class CrashRun:
    """Everything one scenario observed, for the tests to judge."""

    operation: str
    step: str
    data_dir: Path
    before: StoreState
    crash: subprocess.CompletedProcess[str]
    journal_entries: dict[str, bytes]
    # The next start: ``doctor --json`` runs start-up recovery, then compares the stores.
    restart: subprocess.CompletedProcess[str]
    after: StoreState
    audit_records: list[dict[str, Any]]
    # The journal entries put back, as if recovery had died just before removing them.
    again: subprocess.CompletedProcess[str] | None = None
    again_state: StoreState | None = None
    again_records: list[dict[str, Any]] = field(default_factory=list)
    # ``audit verify`` over the whole log at the end (both recoveries included).
    audit: subprocess.CompletedProcess[str] | None = None
    import_key: bytes | None = None

    @property
    def op_id(self) -> str:
        assert len(self.journal_entries) == 1, self.journal_entries.keys()
        return str(json.loads(next(iter(self.journal_entries.values())))["op_id"])

    @property
    def entry_data(self) -> dict[str, Any]:
        return dict(json.loads(next(iter(self.journal_entries.values())))["data"])


def _command(operation: str, scenario: Path) -> tuple[list[str], bytes | None]:
    """The CLI arguments of the operation under test (and the imported key, for import)."""
    if operation == "create":
        return create_args(NEW_CREATED), None
    if operation == "import":
        key = rsa_key(2048, 7)
        files = write_pair(scenario / "input", build_cert("Delta Import CA", key), key)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        args = ["import", "--name", NEW_IMPORTED, "--cert", str(files.cert)]
        return [*args, "--key", str(files.key), "--yes", "--json"], key_pem
    if operation == "renew":
        return ["renew", ALPHA, "--yes", "--json"], None
    if operation == "delete":
        return ["delete", ALPHA, "--yes", "--json"], None
    if operation == "set-default":
        return ["set-default", BETA, "--json"], None
    raise AssertionError(f"no scenario for operation {operation!r}")


def run_scenario(template: Path, scenario: Path, operation: str, step: str) -> CrashRun:
    """Copy the template, crash the operation at ``step``, start again (twice)."""
    data_dir = scenario / "data"
    shutil.copytree(template, data_dir)
    before = snapshot(data_dir)
    args, import_key = _command(operation, scenario)
    crash = run_cli(data_dir, *args, env={faults.ENV: step})
    journal_dir = data_dir / "CA" / STATE_DIR / "journal"
    entries = (
        {p.name: p.read_bytes() for p in sorted(journal_dir.glob("*.json"))}
        if journal_dir.is_dir()
        else {}
    )
    restart = run_cli(data_dir, "doctor", "--json")
    run = CrashRun(
        operation=operation,
        step=step,
        data_dir=data_dir,
        before=before,
        crash=crash,
        journal_entries=entries,
        restart=restart,
        after=snapshot(data_dir),
        audit_records=audit_records(data_dir),
        import_key=import_key,
    )
    if entries and not run.after.journal:
        # Recovery dying after its work but before forgetting the entry looks like this.
        for name, raw in entries.items():
            (journal_dir / name).write_bytes(raw)
        run.again = run_cli(data_dir, "doctor", "--json")
        run.again_state = snapshot(data_dir)
        run.again_records = audit_records(data_dir)
    run.audit = run_cli(data_dir, "audit", "verify", "--json")
    return run


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with two CAs made through the core: Alpha (default) and Beta."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    service = open_service(embedded_profile(data_dir))
    try:
        service.create(create_request(ALPHA))
        service.create(create_request(BETA, organization="Beta Org"))
    finally:
        service.close()
    return data_dir


@pytest.fixture(scope="module")
def crash_runs(
    request: pytest.FixtureRequest,
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[CrashRun]]]:
    """Run the scenarios this session selected, in parallel; each test waits for its own."""
    wanted = sorted(
        {
            item.callspec.params["step"]
            for item in request.session.items
            if getattr(item, "module", None) is request.module
            and "crash_runs" in getattr(item, "fixturenames", ())
            and hasattr(item, "callspec")
            and "step" in item.callspec.params
        }
    )
    operation_of = {step: op for op, step in ALL_STEPS}
    workers = max(2, min(8, 2 * (os.cpu_count() or 2)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            step: pool.submit(
                run_scenario,
                template,
                tmp_path_factory.mktemp(step.replace(".", "_")),
                operation_of[step],
                step,
            )
            for step in wanted
        }
        yield futures


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(proc.stdout)


def _describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"rc={proc.returncode}\nstdout={proc.stdout[-2000:]}\nstderr={proc.stderr[-2000:]}"


# --- what each operation must look like, rolled back or forward ---------------------------


def _check_keys_kept(run: CrashRun) -> None:
    """Every CA key that existed before is still on disk, byte for byte (tree or archive)."""
    after = run.after
    for folder, files in run.before.trees.items():
        if folder in after.trees:
            assert after.trees[folder][KEY] == files[KEY], f"{folder}: key changed"
            continue
        archived = [a for a in after.archives.values() if a.get(KEY) == files[KEY]]
        assert archived, f"{folder}: key neither in its tree nor in the archive"


def _check_untouched(run: CrashRun, *, except_folder: str | None = None) -> None:
    """The trees of the CAs the operation did not target are byte-identical."""
    for folder, files in run.before.trees.items():
        if folder != except_folder:
            assert run.after.trees.get(folder) == files, f"{folder} changed"


def _check_new_ca(run: CrashRun, name: str, outcome: str) -> None:
    before, after = run.before, run.after
    tp = str(run.entry_data["thumbprint"])
    directory = str(run.entry_data["directory"])
    _check_untouched(run)
    if outcome == BACKWARD:
        assert after.rows == before.rows
        assert after.trees == before.trees
        assert directory not in after.trees
        assert after.absent_from_trust(tp)
        assert after.trust_view() == before.trust_view()
        assert after.ctl == before.ctl
        return
    assert set(after.rows) == set(before.rows) | {name.lower()}
    for key, row in before.rows.items():
        assert after.rows[key] == row
    row = after.rows[name.lower()]
    assert row.directory == directory
    assert row.default2 == 2  # Alpha stays the default
    assert row.encryption == ("imported" if run.operation == "import" else "2048")
    files = after.trees[directory]
    assert thumbprint_of(files[CERT]) == tp
    assert key_matches_cert(files[KEY], files[CERT])
    if run.import_key is not None:
        stored = serialization.load_pem_private_key(files[KEY], password=None)
        imported = serialization.load_pem_private_key(run.import_key, password=None)
        assert isinstance(stored, rsa.RSAPrivateKey)
        assert isinstance(imported, rsa.RSAPrivateKey)
        assert stored.private_numbers() == imported.private_numbers()
    assert after.trusted(tp)
    assert row.djigzo_id in after.root_ids(tp)


def _check_renew(run: CrashRun, outcome: str) -> None:
    before, after = run.before, run.after
    directory = before.rows[ALPHA.lower()].directory
    old_pem = before.trees[directory][CERT]
    new_pem = str(run.entry_data["new_cert"]).encode()
    old_tp, new_tp = thumbprint_of(old_pem), thumbprint_of(new_pem)
    assert old_tp != new_tp
    _check_untouched(run, except_folder=directory)
    if outcome == BACKWARD:
        # The whole tree, cacert.pem included, is byte-identical; the old cert stays trusted.
        assert after.trees == before.trees
        assert after.rows == before.rows
        assert after.trusted(old_tp)
        assert after.absent_from_trust(new_tp)
        assert after.trust_view() == before.trust_view()
        return
    files = after.trees[directory]
    assert files[CERT] == new_pem
    assert files[KEY] == before.trees[directory][KEY]
    assert x509.load_pem_x509_certificates(files[CHAIN])[0] == x509.load_pem_x509_certificate(
        new_pem
    )
    history = [v for k, v in files.items() if k.startswith("root_ca/certs/history/")]
    assert history == [old_pem]
    row = after.rows[ALPHA.lower()]
    assert row.expires == not_after_of(new_pem)
    assert row.expires > before.rows[ALPHA.lower()].expires
    assert after.trusted(new_tp)
    assert row.djigzo_id in after.root_ids(new_tp)
    assert after.absent_from_trust(old_tp)
    assert {k: v for k, v in after.rows.items() if k != ALPHA.lower()} == {
        k: v for k, v in before.rows.items() if k != ALPHA.lower()
    }


def _check_delete(run: CrashRun, outcome: str) -> None:
    before, after = run.before, run.after
    alpha = before.rows[ALPHA.lower()]
    tp = thumbprint_of(before.trees[alpha.directory][CERT])
    _check_untouched(run, except_folder=alpha.directory)
    if outcome == BACKWARD:
        assert after.trees == before.trees
        assert after.archives == {}
        assert set(after.rows) == set(before.rows)
        for key, row in before.rows.items():
            # CipherMail may hand out a new row id when trust is given back; the row follows.
            assert replace(after.rows[key], djigzo_id=None) == replace(row, djigzo_id=None)
        assert after.trusted(tp)
        assert after.rows[ALPHA.lower()].djigzo_id in after.root_ids(tp)
        assert after.trust_view() == before.trust_view()
        assert after.ctl == before.ctl
        return
    assert ALPHA.lower() not in after.rows
    assert alpha.directory not in after.trees
    assert after.defaults() == [BETA]  # the default moved to the remaining CA
    assert list(after.archives) == [f"{alpha.directory}.{run.op_id}"]
    assert next(iter(after.archives.values())) == before.trees[alpha.directory]
    assert after.absent_from_trust(tp)
    beta_tp = thumbprint_of(before.trees[before.rows[BETA.lower()].directory][CERT])
    assert after.trusted(beta_tp)


def _check_set_default(run: CrashRun, outcome: str) -> None:
    before, after = run.before, run.after
    assert before.defaults() == [ALPHA]
    assert after.defaults() == ([BETA] if outcome == FORWARD else [ALPHA])
    for key, row in before.rows.items():
        assert replace(after.rows[key], default2=0) == replace(row, default2=0)
    assert after.trees == before.trees
    assert after.trust_view() == before.trust_view()
    assert after.ctl == before.ctl


def check_outcome(run: CrashRun, outcome: str) -> None:
    if run.operation == "create":
        _check_new_ca(run, NEW_CREATED, outcome)
    elif run.operation == "import":
        _check_new_ca(run, NEW_IMPORTED, outcome)
    elif run.operation == "renew":
        _check_renew(run, outcome)
    elif run.operation == "delete":
        _check_delete(run, outcome)
    elif run.operation == "set-default":
        _check_set_default(run, outcome)
    else:
        raise AssertionError(run.operation)


# --- the tests --------------------------------------------------------------------------


def test_every_mutating_operation_has_crash_points_ending_in_a_commit() -> None:
    assert set(faults.STEPS) == {"create", "import", "renew", "delete", "set-default"}
    for operation, steps in faults.STEPS.items():
        assert len(steps) == len(set(steps))
        assert any(s.endswith(".committed") for s in steps), operation
        assert steps[0].endswith(".journaled"), operation


@pytest.mark.parametrize(("operation", "step"), ALL_STEPS, ids=[s for _, s in ALL_STEPS])
def test_crash_at_step_is_recovered_to_all_or_nothing_on_next_start(
    crash_runs: dict[str, Future[CrashRun]], operation: str, step: str
) -> None:
    run = crash_runs[step].result()
    outcome = expected_outcome(operation, step)

    # The process reached the step and died there by SIGKILL, leaving its journal entry.
    assert run.crash.returncode == -signal.SIGKILL, _describe(run.crash)
    assert len(run.journal_entries) == 1

    # The next start recovers: all of the operation, or none of it, in all three stores;
    # and doctor, run by that start, finds nothing.
    assert run.restart.returncode == 0, _describe(run.restart)
    assert _json(run.restart) == {"ok": True, "findings": []}
    check_outcome(run, outcome)
    assert_consistent(run.after)
    _check_keys_kept(run)

    # Nothing is left over: no journal entry, no staging folder, no temporary file.
    assert run.after.journal == []
    assert run.after.staging == []
    assert run.after.temp_files == []

    # The audit chain holds, and it says how the operation was resolved.
    assert_audit_chain(run.audit_records)
    resolved = [r for r in run.audit_records if r.get("details", {}).get("op_id") == run.op_id]
    assert [(r["operation"], r["outcome"]) for r in resolved] == [(operation, outcome)]
    assert run.audit is not None
    assert run.audit.returncode == 0, _describe(run.audit)
    assert _json(run.audit)["ok"] is True


@pytest.mark.parametrize(("operation", "step"), ALL_STEPS, ids=[s for _, s in ALL_STEPS])
def test_recovery_repeated_after_dying_before_clearing_its_journal_changes_nothing(
    crash_runs: dict[str, Future[CrashRun]], operation: str, step: str
) -> None:
    run = crash_runs[step].result()
    assert run.crash.returncode == -signal.SIGKILL, _describe(run.crash)
    assert run.again is not None and run.again_state is not None, "the first start failed"

    # Recovering the same entry a second time leaves the stores exactly as the first did.
    again = run.again_state
    assert again.rows == run.after.rows
    assert again.trees == run.after.trees
    assert again.archives == run.after.archives
    assert again.trust_view() == run.after.trust_view()
    assert again.ctl == run.after.ctl
    assert again.journal == []
    assert again.staging == []
    assert run.again.returncode == 0, _describe(run.again)
    assert _json(run.again) == {"ok": True, "findings": []}
    assert_audit_chain(run.again_records)
    outcomes = [
        r["outcome"] for r in run.again_records if r.get("details", {}).get("op_id") == run.op_id
    ]
    assert outcomes == [expected_outcome(operation, step)] * 2


def test_crash_inside_roll_forward_recovery_is_finished_by_the_following_start(
    template: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    before = snapshot(data_dir)
    alpha_dir = before.rows[ALPHA.lower()].directory
    old_tp = thumbprint_of(before.trees[alpha_dir][CERT])

    crash = run_cli(
        data_dir, "renew", ALPHA, "--yes", "--json", env={faults.ENV: "renew.committed"}
    )
    assert crash.returncode == -signal.SIGKILL, _describe(crash)
    # The next start dies too, in the middle of finishing the renewal (old trust removed,
    # audit record and journal clean-up not yet done).
    second = run_cli(data_dir, "list", "--json", env={faults.ENV: "renew.old_untrusted"})
    assert second.returncode == -signal.SIGKILL, _describe(second)
    middle = snapshot(data_dir)
    assert len(middle.journal) == 1
    assert middle.absent_from_trust(old_tp)

    third = run_cli(data_dir, "doctor", "--json")
    assert third.returncode == 0, _describe(third)
    assert _json(third) == {"ok": True, "findings": []}
    after = snapshot(data_dir)
    assert after.journal == [] and after.staging == [] and after.temp_files == []
    assert_consistent(after)
    new_pem = after.trees[alpha_dir][CERT]
    assert thumbprint_of(new_pem) != old_tp
    assert after.trees[alpha_dir][KEY] == before.trees[alpha_dir][KEY]
    assert after.absent_from_trust(old_tp)
    assert after.trusted(thumbprint_of(new_pem))
    audit = run_cli(data_dir, "audit", "verify", "--json")
    assert audit.returncode == 0, _describe(audit)
    outcomes = [(r["operation"], r["outcome"]) for r in audit_records(data_dir)[2:]]
    assert outcomes == [("renew", FORWARD)]


def test_recovery_with_nothing_pending_changes_nothing(template: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    before = snapshot(data_dir)
    for _ in range(2):
        listed = run_cli(data_dir, "list", "--json")
        assert listed.returncode == 0, _describe(listed)
    after = snapshot(data_dir)
    assert after.rows == before.rows
    assert after.trees == before.trees
    assert after.cm == before.cm
    assert after.ctl == before.ctl
    assert len(audit_records(data_dir)) == 2  # the two creates, nothing from recovery


def test_renew_rolled_back_restores_a_web_ui_cacert_byte_for_byte(
    template: Path, tmp_path: Path
) -> None:
    # The web UI uploads the certificate file as it came: text around the PEM, CRLF ends.
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    root = data_dir / "CA" / snapshot(data_dir).rows[ALPHA.lower()].directory / "root_ca"
    pem = (root / "certs" / "cacert.pem").read_bytes()
    web_ui = b"Bag Attributes\n    friendlyName: Alpha Root\nsubject=CN = Alpha Root\n\n"
    web_ui += pem.replace(b"\n", b"\r\n")
    (root / "certs" / "cacert.pem").write_bytes(web_ui)
    (root / "cachain.pem").write_bytes(web_ui)
    before = snapshot(data_dir)

    crash = run_cli(
        data_dir, "renew", ALPHA, "--yes", "--json", env={faults.ENV: "renew.new_trusted"}
    )
    assert crash.returncode == -signal.SIGKILL, _describe(crash)
    restart = run_cli(data_dir, "doctor", "--json")

    assert restart.returncode == 0, _describe(restart)
    assert _json(restart) == {"ok": True, "findings": []}
    after = snapshot(data_dir)
    assert (root / "certs" / "cacert.pem").read_bytes() == web_ui
    assert (root / "cachain.pem").read_bytes() == web_ui
    assert after.trees == before.trees
    assert after.rows == before.rows
    assert after.trusted(thumbprint_of(pem))
    assert after.trust_view() == before.trust_view()
    assert after.journal == []


@pytest.mark.parametrize(
    ("operation", "step", "outcome"),
    [
        ("create", "create.tree_placed", BACKWARD),
        ("delete", "delete.committed", FORWARD),
        ("renew", "renew.new_trusted", BACKWARD),
    ],
)
def test_an_open_session_recovers_another_process_crash_before_its_own_next_change(
    template: Path, tmp_path: Path, operation: str, step: str, outcome: str
) -> None:
    # A session opened before the crash (the TUI, say) must not build on a half-done
    # operation: its next change resolves the journal first, under the lock.
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    service = open_service(embedded_profile(data_dir))
    try:
        args, _ = _command(operation, tmp_path)
        crash = run_cli(data_dir, *args, env={faults.ENV: step})
        assert crash.returncode == -signal.SIGKILL, _describe(crash)
        assert len(snapshot(data_dir).journal) == 1

        details = service.set_default(BETA)

        assert details.summary.default is True
        assert [(r.operation, r.outcome) for r in service.recovered] == [(operation, outcome)]
    finally:
        service.close()
    after = snapshot(data_dir)
    assert after.journal == [] and after.staging == []
    assert_consistent(after)
    assert after.defaults() == [BETA]
    names = {r.name for r in after.rows.values()}
    if operation == "create":
        assert names == {ALPHA, BETA}
    if operation == "delete":
        assert names == {BETA}
    doctor = run_cli(data_dir, "doctor", "--json")
    assert _json(doctor) == {"ok": True, "findings": []}, _describe(doctor)
