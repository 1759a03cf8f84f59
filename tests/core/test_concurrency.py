"""Concurrency: several processes changing one data folder at once.

Writers are separate processes (``multiprocessing`` with ``spawn``), each with its own
:func:`open_service`, as several operators on several terminals would be. They line up on
a :class:`multiprocessing.Barrier` and run a fixed number of operations each; nothing
waits on a clock. A reader process meanwhile samples the default count and the row count
in one read transaction, as the web UI would see them. One more process runs CLI
operations that SIGKILL themselves midway, holding the lock: whoever takes the lock next
must resolve them before changing anything.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

import pytest

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import embedded_profile, open_service
from tests.core.racing import (
    LINE_UP_S,
    Result,
    Role,
    Rounds,
    check_reports,
    check_successes_visible,
    create,
    creator,
    deleter,
    record_samples,
    run_worker,
    run_writers,
    setter,
    twin,
)
from tests.core.stores import (
    CERT,
    StoreState,
    assert_audit_chain,
    assert_consistent,
    audit_records,
    snapshot,
    thumbprint_of,
)
from tests.support import create_request, run_cli

pytestmark = pytest.mark.slow

LOCK_TIMEOUT_S = 120.0

ROUNDS = Rounds(creates_per_creator=5, rounds_per_deleter=5, sets_per_setter=12, twin_rounds=3)
FRESH_ROUNDS = 3


# --- the processes ----------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedSource:
    """One embedded data folder shared by every process (see :class:`tests.core.racing.Source`)."""

    data_dir: str
    rounds: Rounds = ROUNDS

    def open(self, host: str) -> CaService:
        """Every process opens the same folder: its file lock is the one they share."""
        return _service(self.data_dir)


def _service(data_dir: str) -> CaService:
    return open_service(embedded_profile(Path(data_dir)), lock_timeout=LOCK_TIMEOUT_S)


CRASHES: list[tuple[str, list[str], str]] = [
    # (step, CLI arguments, how the next process to take the lock must resolve it)
    ("create.trusted", ["create", "--cn", "Crash Ca0"], "rolled-back"),
    ("delete.untrusted", ["delete", "Base Ca1", "--yes"], "rolled-back"),
    ("renew.committed", ["renew", "Base Ca0", "--yes"], "recovered-forward"),
    ("create.committed", ["create", "--cn", "Crash Ca3"], "recovered-forward"),
]
CREATE_FIELDS = ["--org", "Acme", "--unit", "IT", "--state", "Utah", "--country", "US"]


def crasher(source: EmbeddedSource, index: int, barrier: Barrier, out: str) -> None:
    """Run CLI operations that SIGKILL themselves midway, holding the lock, among the others."""

    def body(results: list[Result]) -> None:
        barrier.wait(LINE_UP_S)
        for step, args, _ in CRASHES:
            extra = [*CREATE_FIELDS, "--key-size", "2048"] if args[0] == "create" else []
            done = run_cli(Path(source.data_dir), *args, *extra, "--json", env={faults.ENV: step})
            results.append({"op": "crash", "step": step, "ok": None, "rc": done.returncode})

    run_worker(out, body)


def starter(source: EmbeddedSource, index: int, barrier: Barrier, out: str) -> None:
    """Open a data folder nobody has used yet, all at once, and create one CA (per round)."""

    def body(results: list[Result]) -> None:
        for r in range(FRESH_ROUNDS):
            barrier.wait(LINE_UP_S)
            service = _service(str(Path(source.data_dir) / f"round{r}"))
            result = create(results, service, f"Starter Ca{index}")
            result["round"] = r
            service.close()

    run_worker(out, body)


def reader(db_path: str, barrier: Barrier, stop: Event, out: str) -> None:
    """Sample (defaults, rows) in one read transaction until told to stop."""
    with closing(sqlite3.connect(db_path, isolation_level=None, timeout=30)) as db:

        def sample() -> tuple[int, int]:
            db.execute("BEGIN")
            defaults = db.execute("SELECT COUNT(*) FROM ca_settings WHERE default2 = 1").fetchone()
            rows = db.execute("SELECT COUNT(*) FROM ca_settings").fetchone()
            db.execute("COMMIT")
            return int(defaults[0]), int(rows[0])

        barrier.wait(LINE_UP_S)
        record_samples(out, sample, stop)


# --- running them -----------------------------------------------------------------------


def prepare(data_dir: Path, *names: str) -> None:
    service = open_service(embedded_profile(data_dir))
    try:
        for name in names:
            service.create(create_request(name))
    finally:
        service.close()


def assert_trust_is_exactly_the_live_cas(state: StoreState) -> None:
    """CipherMail holds the live CAs' certificates, and nothing of refused or deleted ones."""
    live = {thumbprint_of(files[CERT]) for files in state.trees.values()}
    assert set(state.cm) == live
    assert set(state.ctl) == live


def restart_and_check(data_dir: Path) -> StoreState:
    """Start again (``doctor``, which first recovers what a killed process left); then
    every store is consistent, nothing is left over, and the audit chain holds."""
    doctor = run_cli(data_dir, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert json.loads(doctor.stdout) == {"ok": True, "findings": []}
    state = snapshot(data_dir)
    assert state.journal == []
    assert state.staging == []
    assert state.temp_files == []
    assert_consistent(state)
    assert_trust_is_exactly_the_live_cas(state)
    audit = run_cli(data_dir, "audit", "verify", "--json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert_audit_chain(audit_records(data_dir))
    return state


def audited_successes(data_dir: Path, skip: int) -> Counter[tuple[str, int]]:
    """(operation, CA id) of every "ok" audit record after the first ``skip`` records."""
    return Counter(
        (r["operation"], int(r["ca"]["id"]))
        for r in audit_records(data_dir)[skip:]
        if r["outcome"] == "ok"
    )


# --- the tests --------------------------------------------------------------------------


def test_concurrent_set_default_create_and_delete_keep_exactly_one_default_and_three_stores_in_step(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir, "Base Ca0", "Base Ca1")
    roles: list[tuple[Role, int]] = [
        (creator, 0),
        (creator, 1),
        (deleter, 0),
        (setter, 0),
        (setter, 1),
        (crasher, 0),
    ]

    results, sampled = run_writers(
        EmbeddedSource(str(data_dir)),
        tmp_path,
        roles,
        reader=(reader, str(data_dir / "hermes.sqlite3")),
    )

    race = check_reports(results, sampled, ROUNDS)

    state = restart_and_check(data_dir)

    check_successes_visible(state, race)
    forward_creates = sum(1 for step, _, how in CRASHES if step == "create.committed")
    assert len(state.rows) == 2 + len(race.creates) - len(race.deletes) + forward_creates

    # Each process killed midway (holding the lock) was resolved once, by whoever came next.
    crashes = [r for r in results if r["op"] == "crash"]
    assert [(r["step"], r["rc"]) for r in crashes] == [(s, -signal.SIGKILL) for s, _, _ in CRASHES]
    resolved = Counter(
        (r["operation"], r["outcome"])
        for r in audit_records(data_dir)
        if r["outcome"] in ("rolled-back", "recovered-forward")
    )
    assert resolved == Counter((step.split(".")[0], how) for step, _, how in CRASHES)

    # The audit log holds exactly the successes the processes reported, no more, no fewer.
    reported = Counter((r["op"], int(r["id"])) for r in race.ok)
    assert audited_successes(data_dir, skip=2) == reported


def test_the_same_name_created_by_two_processes_at_once_gives_one_ca_and_one_refusal(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir, "Base Ca0")

    results, _ = run_writers(EmbeddedSource(str(data_dir)), tmp_path, [(twin, 0), (twin, 1)])

    for r in range(ROUNDS.twin_rounds):
        attempts = [
            x for x in results if str(x.get("name", x.get("ref", ""))).lower() == f"twin root {r}"
        ]
        assert sorted((x["ok"], x.get("code")) for x in attempts) == [
            (False, "DUPLICATE_NAME"),
            (True, None),
        ]
    state = restart_and_check(data_dir)
    twins = [n for n in state.row_names if n.lower().startswith("twin root")]
    assert sorted(n.lower() for n in twins) == [f"twin root {r}" for r in range(ROUNDS.twin_rounds)]
    assert len(state.trees) == 1 + ROUNDS.twin_rounds  # the refused ones left no folder


def test_first_start_by_several_processes_at_once_works_for_all_and_yields_one_default(
    tmp_path: Path,
) -> None:
    starters = 4
    results, _ = run_writers(
        EmbeddedSource(str(tmp_path / "fresh")), tmp_path, [(starter, i) for i in range(starters)]
    )

    # Nobody is turned away while another process sets the new databases up.
    assert [r["ok"] for r in results] == [True] * starters * FRESH_ROUNDS, results
    for r in range(FRESH_ROUNDS):
        # The first CA made becomes the default, and only that one said so.
        assert sum(1 for x in results if x["round"] == r and x["default"]) == 1
        state = restart_and_check(tmp_path / "fresh" / f"round{r}")
        assert len(state.rows) == starters
        assert len(state.defaults()) == 1
