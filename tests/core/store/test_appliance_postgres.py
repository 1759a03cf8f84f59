"""The appliance's PostgreSQL tables have no unique constraints; the advisory lock keeps order.

On the appliance the tool never changes the schema, and ``ca_settings`` there has none of
the three unique indexes ``db init`` adds (lower(CN), lower(directory), one default). The
``appliance`` fixture builds exactly those tables: ``postgres.HERMES_SCHEMA`` without its
``CREATE UNIQUE INDEX`` statements (djigzo keeps its constraints: CipherMail's own schema
has them). Uniqueness and the single default must then come from the operation lock, a
``pg_advisory_lock`` held for the whole operation.

The concurrency tests run writers as separate processes (``multiprocessing``, spawn) lined
up on a barrier, with a fixed number of operations each and no sleeps. Each writer acts as
if on its own host: its host-wide file lock is its own file, so only the advisory lock in
the shared database keeps the writers apart.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hermes_ca_tui.core.context import OPERATION_LOCK_KEY, Paths
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.findings import FindingCode
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, init_schema, open_service
from hermes_ca_tui.core.store import postgres
from hermes_ca_tui.core.views import CaDetails
from tests.config_support import profile_config, run_app
from tests.core.racing import (
    LINE_UP_S,
    Rounds,
    check_reports,
    check_successes_visible,
    creator,
    deleter,
    record_samples,
    run_writers,
    setter,
    twin,
)
from tests.core.store import raw
from tests.core.stores import CERT, StoreState, assert_audit_chain, assert_consistent
from tests.core.stores import thumbprint_of as tp_of_pem
from tests.support import create_args, create_request

pytestmark = pytest.mark.postgres

LOCK_WAIT_S = 120.0

ROUNDS = Rounds(creates_per_creator=4, rounds_per_deleter=4, sets_per_setter=10, twin_rounds=3)


# --- the appliance's tables -------------------------------------------------------------


def appliance_hermes_schema() -> str:
    """``postgres.HERMES_SCHEMA`` without its unique indexes, as the appliance has it."""
    statements = [s.strip() for s in postgres.HERMES_SCHEMA.split(";") if s.strip()]
    kept = [s for s in statements if not s.upper().startswith("CREATE UNIQUE INDEX")]
    assert len(statements) - len(kept) == 3, "the three unique indexes of ca_settings"
    return ";\n".join(kept) + ";"


def create_tables(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        for statement in (s.strip() for s in schema.split(";")):
            if statement:
                conn.execute(statement)


@pytest.fixture
def appliance(tmp_path: Path, pg_databases: tuple[str, str]) -> Profile:
    """An appliance profile: tables as on the appliance (no unique indexes on ca_settings)."""
    hermes, djigzo = pg_databases
    create_tables(hermes, appliance_hermes_schema())
    create_tables(djigzo, postgres.DJIGZO_SCHEMA)
    assert raw.unique_indexes(hermes, "ca_settings") == []
    return Profile(
        label="appliance test",
        ca_root=tmp_path / "CA",
        security_conf=tmp_path / "security.conf",
        audit_log=tmp_path / "log" / "audit.jsonl",
        hermes_url=hermes,
        djigzo_url=djigzo,
        bridge_mode="sql",
        embedded=False,
    )


def prepare(profile: Profile, *names: str) -> list[CaDetails]:
    service = open_service(profile)
    try:
        return [service.create(create_request(name)) for name in names]
    finally:
        service.close()


def test_the_appliance_tables_accept_two_defaults_and_a_duplicate_name_which_doctor_reports(
    appliance: Profile,
) -> None:
    prepare(appliance, "Base Ca0")
    url = appliance.hermes_url
    # The schema itself refuses nothing: a second default and a duplicate name go in.
    raw.execute(
        url,
        "INSERT INTO ca_settings (ca_commonname, ca_directory, default2, expires, encryption) "
        "SELECT 'BASE CA0', ca_directory, 1, expires, encryption FROM ca_settings",
    )

    service = open_service(appliance)
    try:
        codes = {f.code for f in service.doctor().findings}
    finally:
        service.close()

    assert {FindingCode.DEFAULT_COUNT, FindingCode.DUPLICATE_NAME} <= codes
    assert FindingCode.DUPLICATE_DIRECTORY in codes
    assert raw.scalar(url, "SELECT COUNT(*) FROM ca_settings WHERE default2 = 1") == 2


def test_the_tool_never_adds_an_index_or_table_to_the_appliance_schema(
    appliance: Profile,
) -> None:
    before = (raw.tables(appliance.hermes_url), raw.tables(appliance.djigzo_url))

    made = prepare(appliance, "Alpha Root", "Beta Root")
    service = open_service(appliance)
    try:
        service.set_default(made[1].summary.id)
        service.delete(made[0].summary.id)
        assert service.doctor().ok
    finally:
        service.close()

    assert (raw.tables(appliance.hermes_url), raw.tables(appliance.djigzo_url)) == before
    assert raw.unique_indexes(appliance.hermes_url, "ca_settings") == []


def test_db_init_on_the_appliance_tables_leaves_them_exactly_as_they_are(
    appliance: Profile,
) -> None:
    prepare(appliance, "Alpha Root")
    before = (raw.dump(appliance.hermes_url), raw.dump(appliance.djigzo_url))

    done = init_schema(appliance)

    assert done == [
        "hermes: tables already there, left unchanged (postgresql)",
        "djigzo: tables already there, left unchanged (postgresql)",
    ]
    assert raw.unique_indexes(appliance.hermes_url, "ca_settings") == []
    assert (raw.dump(appliance.hermes_url), raw.dump(appliance.djigzo_url)) == before


def test_db_init_refuses_a_database_holding_part_of_the_tables_and_creates_nothing(
    appliance: Profile,
) -> None:
    raw.execute(appliance.hermes_url, "DROP TABLE recipient_certificates")

    with pytest.raises(CaError) as info:
        init_schema(appliance)

    assert info.value.code is Code.DATABASE_UNAVAILABLE
    assert info.value.params["reason"] == (
        "it holds ca_settings but not recipient_certificates; "
        "db init only sets up a database without any of them"
    )
    assert raw.tables(appliance.hermes_url) == ["ca_settings"]
    assert raw.unique_indexes(appliance.hermes_url, "ca_settings") == []


def test_a_connection_the_server_dropped_is_reported_once_and_the_session_reconnects(
    appliance: Profile,
) -> None:
    (alpha,) = prepare(appliance, "Alpha Root")
    service = open_service(appliance)
    try:
        assert [c.name for c in service.list_cas()] == ["Alpha Root"]
        with psycopg.connect(appliance.hermes_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(CaError) as dropped:
            service.list_cas()
        assert dropped.value.code is Code.DATABASE_UNAVAILABLE
        assert dropped.value.params["database"] == "hermes"

        assert [c.name for c in service.list_cas()] == ["Alpha Root"]
        assert service.set_default(alpha.summary.id).summary.default
    finally:
        service.close()


# --- the processes ----------------------------------------------------------------------


@dataclass(frozen=True)
class HostPaths(Paths):
    """Paths of a process acting as its own host: the same CA root, its own lock file."""

    host: str = "host"

    @property
    def lock_file(self) -> Path:
        """A file lock nobody else takes: only the database lock is shared."""
        return self.state_dir / f"lock.{self.host}"


@dataclass(frozen=True)
class ApplianceSource:
    """Processes as separate hosts on one appliance's databases (:class:`racing.Source`)."""

    profile: Profile
    rounds: Rounds = ROUNDS

    def open(self, host: str) -> CaService:
        """Each process its own file lock: only PostgreSQL's advisory lock is shared."""
        service = open_service(self.profile, lock_timeout=LOCK_WAIT_S)
        paths = service.ctx.paths
        service.ctx.paths = HostPaths(
            paths.ca_root, paths.security_conf, paths.audit_log, host=host
        )
        return service


def reader(dsn: str, barrier: Barrier, stop: Event, out: str) -> None:
    """Sample (defaults, rows) in one statement, one snapshot, until told to stop."""
    with psycopg.connect(dsn, autocommit=True) as conn:

        def sample() -> tuple[int, int]:
            row = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE default2 = 1), COUNT(*) FROM ca_settings"
            ).fetchone()
            assert row is not None
            return int(row[0]), int(row[1])

        barrier.wait(LINE_UP_S)
        record_samples(out, sample, stop)


def check_afterwards(profile: Profile) -> StoreState:
    """A new session: doctor clean; every store consistent, nothing left over, audit intact."""
    service = open_service(profile)
    try:
        report = service.doctor()
        assert report.ok, report.findings
        assert service.audit_verify().ok
    finally:
        service.close()
    state = raw.snapshot(profile)
    assert (state.journal, state.staging, state.temp_files) == ([], [], [])
    assert_consistent(state)  # one default; no duplicate name or folder; trees = rows
    live = {tp_of_pem(files[CERT]) for files in state.trees.values()}
    assert set(state.cm) == live, "trust rows of refused or deleted CAs"
    assert set(state.ctl) == live
    names = [n.rstrip().lower() for n in state.row_names]
    assert len(names) == len(set(names)), state.row_names
    assert_audit_chain(audit_records(profile))
    return state


def audit_records(profile: Profile) -> list[dict[str, Any]]:
    lines = profile.audit_log.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def audit_successes(profile: Profile, skip: int) -> Counter[tuple[str, int]]:
    records = audit_records(profile)[skip:]
    return Counter((r["operation"], int(r["ca"]["id"])) for r in records if r["outcome"] == "ok")


# --- the tests --------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_set_default_create_and_delete_without_constraints_keep_one_default(
    appliance: Profile, tmp_path: Path
) -> None:
    prepare(appliance, "Base Ca0", "Base Ca1")
    roles = [(creator, 0), (creator, 1), (deleter, 0), (setter, 0), (setter, 1)]

    results, sampled = run_writers(
        ApplianceSource(appliance), tmp_path, roles, reader=(reader, appliance.hermes_url)
    )

    race = check_reports(results, sampled, ROUNDS)

    state = check_afterwards(appliance)

    check_successes_visible(state, race)
    assert len(state.rows) == 2 + len(race.creates) - len(race.deletes)
    # The audit log holds exactly the successes the processes reported: refusals did nothing.
    reported = Counter((r["op"], int(r["id"])) for r in race.ok)
    assert audit_successes(appliance, skip=2) == reported
    assert raw.unique_indexes(appliance.hermes_url, "ca_settings") == []


@pytest.mark.slow
def test_the_same_name_created_by_two_processes_at_once_gives_one_ca_and_one_duplicate_name(
    appliance: Profile, tmp_path: Path
) -> None:
    prepare(appliance, "Base Ca0")

    results, _ = run_writers(ApplianceSource(appliance), tmp_path, [(twin, 0), (twin, 1)])

    for r in range(ROUNDS.twin_rounds):
        attempts = [
            x for x in results if str(x.get("name", x.get("ref", ""))).lower() == f"twin root {r}"
        ]
        assert sorted((x["ok"], x.get("code")) for x in attempts) == [
            (False, "DUPLICATE_NAME"),
            (True, None),
        ]
    state = check_afterwards(appliance)
    twins = sorted(n.lower() for n in state.row_names if n.lower().startswith("twin root"))
    assert twins == [f"twin root {r}" for r in range(ROUNDS.twin_rounds)]
    assert len(state.trees) == 1 + ROUNDS.twin_rounds  # the refused ones left no folder


# --- LOCK_TIMEOUT -----------------------------------------------------------------------


def everything(profile: Profile) -> tuple[Any, ...]:
    files = sorted(
        (str(p.relative_to(profile.ca_root)), p.read_bytes())
        for p in profile.ca_root.rglob("*")
        if p.is_file() and ".hermes-ca-tui" not in p.parts
    )
    audit = profile.audit_log.read_bytes() if profile.audit_log.exists() else b""
    return raw.dump(profile.hermes_url), raw.dump(profile.djigzo_url), files, audit


@contextmanager
def lock_held_elsewhere(profile: Profile) -> Iterator[None]:
    """Another session holds the operation lock (in the hermes database) for the block."""
    with psycopg.connect(profile.hermes_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (OPERATION_LOCK_KEY,))
        yield


def test_a_mutation_gives_up_with_lock_timeout_while_another_session_holds_the_lock(
    appliance: Profile,
) -> None:
    alpha, beta = prepare(appliance, "Alpha Root", "Beta Root")
    before = everything(appliance)
    service = open_service(appliance, lock_timeout=0.5)
    try:
        with lock_held_elsewhere(appliance):
            attempts: dict[str, Callable[[], object]] = {
                "create": lambda: service.create(create_request("Gamma Root")),
                "set-default": lambda: service.set_default(beta.summary.id),
                "delete": lambda: service.delete(alpha.summary.id),
                "repair": lambda: service.repair(),
            }
            codes = {}
            for op, attempt in attempts.items():
                started = time.monotonic()
                with pytest.raises(CaError) as refused:
                    attempt()
                codes[op] = (refused.value.code, refused.value.kind.value)
                assert time.monotonic() - started < LOCK_WAIT_S / 4  # it gave up, not waited
                assert "advisory lock" in str(refused.value.params.get("path"))
            assert everything(appliance) == before
        # Once the other session lets go, the same operation goes through.
        created = service.create(create_request("Gamma Root"))
    finally:
        service.close()

    assert codes == dict.fromkeys(attempts, (Code.LOCK_TIMEOUT, 4))
    assert created.summary.name == "Gamma Root"


def test_the_cli_exits_4_with_lock_timeout_and_changes_nothing_while_the_lock_is_held(
    appliance: Profile, tmp_path: Path
) -> None:
    prepare(appliance, "Alpha Root")
    config = profile_config(tmp_path / "hermes-ca-tui.toml", appliance, lock_timeout=0.5)
    before = everything(appliance)

    with lock_held_elsewhere(appliance):
        done = run_app(
            "--config",
            str(config),
            "set-default",
            "Alpha Root",
            "--json",
        )
        created = run_app("--config", str(config), *create_args("Gamma Root"))

    for run in (done, created):
        assert run.returncode == 4, run.stdout + run.stderr
        assert "Traceback" not in run.stderr + run.stdout
        assert json.loads(run.stdout)["error"]["code"] == "LOCK_TIMEOUT"
    assert everything(appliance) == before
    # Let go, the same command goes through.
    after = run_app("--config", str(config), "set-default", "Alpha Root", "--json")
    assert after.returncode == 0, after.stdout + after.stderr
    assert json.loads(after.stdout)["default"] is True


def test_every_connection_gets_a_statement_timeout_and_keeps_the_dsn_s_own_settings(
    pg_server: str,
) -> None:
    def shown(dsn: str) -> tuple[str, str]:
        database = postgres.postgres_database("hermes", dsn, None)
        try:
            with database.transaction(write=False) as tx:
                return str(tx.scalar("SHOW statement_timeout")), str(tx.scalar("SHOW search_path"))
        finally:
            database.close()

    own_path = psycopg.conninfo.make_conninfo(pg_server, options="-c search_path=hermes_test")
    own_timeout = psycopg.conninfo.make_conninfo(pg_server, options="-c statement_timeout=5s")

    assert shown(pg_server)[0] == "30s"
    assert shown(own_path) == ("30s", "hermes_test")
    assert shown(own_timeout)[0] == "5s"
    assert "keepalives_idle=10" in postgres.connection_string(pg_server)
