"""Several processes changing the same stores at once: the roles and the harness.

Writers are separate processes (``multiprocessing`` with ``spawn``), each with its own
service, as several operators on several terminals would be. They line up on a
:class:`multiprocessing.Barrier` and run a fixed number of operations each; nothing waits
on a clock. Each writes what it reported (a success with its effect, or a refusal code)
to a JSON file the test reads afterwards.

Where the stores are is a :class:`Source`, a picklable object that opens a service in the
child process: the embedded default (``tests/core/test_concurrency.py``) or PostgreSQL
with the appliance's tables (``tests/core/store/test_appliance_postgres.py``).
"""

from __future__ import annotations

import json
import multiprocessing
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any, Protocol

from hermes_ca_tui.core.errors import CaError
from hermes_ca_tui.core.service import CaService
from tests.core.stores import CERT, KEY, StoreState, thumbprint_of
from tests.support import create_request

SPAWN = multiprocessing.get_context("spawn")
LINE_UP_S = 120.0
"""How long a process waits at the barrier for the others (a hang guard, never a delay)."""
JOIN_S = 300.0

Result = dict[str, Any]
Role = Callable[..., None]


@dataclass(frozen=True)
class Rounds:
    """How many operations each role runs."""

    creates_per_creator: int
    rounds_per_deleter: int
    sets_per_setter: int
    twin_rounds: int


class Source(Protocol):
    """Where the stores are; opens a service in a writer process."""

    rounds: Rounds

    def open(self, host: str) -> CaService:
        """A service for the process playing ``host`` (``creator0``, ``setter1``...)."""


def attempt(results: list[Result], op: str, ref: object, action: Callable[[], Result]) -> Result:
    """Run one operation and record what it reported: success, or a refusal code."""
    try:
        result = action()
    except CaError as exc:
        result = {"op": op, "ref": str(ref), "ok": False, "code": exc.code.name}
    results.append(result)
    return result


def create(
    results: list[Result], service: CaService, name: str, *, make_default: bool = False
) -> Result:
    """Create a CA; record its id and whether it is the default."""

    def action() -> Result:
        s = service.create(create_request(name, make_default=make_default)).summary
        return {"op": "create", "name": name, "ok": True, "id": s.id, "default": s.default}

    return attempt(results, "create", name, action)


def run_worker(out: str, body: Callable[[list[Result]], None]) -> None:
    """Run a role's body; write its results (and any crash, as a traceback) to ``out``."""
    results: list[Result] = []
    crash = None
    try:
        body(results)
    except BaseException:
        crash = traceback.format_exc()
    Path(out).write_text(json.dumps({"results": results, "crash": crash}))


def creator(source: Source, index: int, barrier: Barrier, out: str) -> None:
    """Create distinct CAs, every other one asking to become the default."""

    def body(results: list[Result]) -> None:
        service = source.open(f"creator{index}")
        barrier.wait(LINE_UP_S)
        for k in range(source.rounds.creates_per_creator):
            create(results, service, f"Creator{index} Ca{k}", make_default=k % 2 == 1)
        service.close()

    run_worker(out, body)


def deleter(source: Source, index: int, barrier: Barrier, out: str) -> None:
    """Create a CA as the default, then delete it (the default moves) or a creator's CA."""

    def body(results: list[Result]) -> None:
        service = source.open(f"deleter{index}")
        barrier.wait(LINE_UP_S)
        for k in range(source.rounds.rounds_per_deleter):
            made = create(results, service, f"Deleter{index} Ca{k}", make_default=True)
            target: int | None = made.get("id")
            if k % 2 == 1:
                others = [c for c in service.list_cas() if c.name.startswith("Creator")]
                if others:
                    target = others[0].id
            if target is None:
                continue

            def delete(ca_id: int = target) -> Result:
                done = service.delete(ca_id)
                return {
                    "op": "delete",
                    "ok": True,
                    "id": done.ca_id,
                    "name": done.name,
                    "archive": done.archive,
                    "new_default": done.new_default_id,
                }

            attempt(results, "delete", target, delete)
        service.close()

    run_worker(out, body)


def setter(source: Source, index: int, barrier: Barrier, out: str) -> None:
    """Move the default around among whatever CAs exist right now."""

    def body(results: list[Result]) -> None:
        service = source.open(f"setter{index}")
        barrier.wait(LINE_UP_S)
        for k in range(source.rounds.sets_per_setter):
            cas = service.list_cas()
            target = cas[(k * 3 + index) % len(cas)].id

            def set_default(ca_id: int = target) -> Result:
                s = service.set_default(ca_id).summary
                return {"op": "set-default", "ok": True, "id": s.id, "default": s.default}

            attempt(results, "set-default", target, set_default)
        service.close()

    run_worker(out, body)


def twin(source: Source, index: int, barrier: Barrier, out: str) -> None:
    """Each round, create the same name as the other twin (in another case), at once."""

    def body(results: list[Result]) -> None:
        service = source.open(f"twin{index}")
        for r in range(source.rounds.twin_rounds):
            name = f"Twin Root {r}" if index == 0 else f"TWIN root {r}"
            barrier.wait(LINE_UP_S)
            create(results, service, name)
        service.close()

    run_worker(out, body)


def record_samples(out: str, sample: Callable[[], tuple[int, int]], stop: Event) -> None:
    """Call ``sample`` for (defaults, rows) until ``stop``; write what was seen to ``out``.

    An anomaly is a snapshot with rows but not exactly one default.
    """
    reads = with_rows = 0
    anomalies: list[tuple[int, int]] = []
    while not stop.is_set():
        defaults, rows = sample()
        reads += 1
        if rows > 0:
            with_rows += 1
            if defaults != 1:
                anomalies.append((rows, defaults))
    Path(out).write_text(
        json.dumps({"reads": reads, "with_rows": with_rows, "anomalies": anomalies})
    )


def run_writers(
    source: object,
    tmp_path: Path,
    roles: list[tuple[Role, int]],
    *,
    reader: tuple[Role, object] | None = None,
) -> tuple[list[Result], dict[str, Any] | None]:
    """Start every writer (and the reader), wait for the writers, stop the reader.

    Args:
        source: Passed to every role (a :class:`Source`, or what a test's own role takes).
        tmp_path: Where the result files go.
        roles: (role, index) per writer process.
        reader: (reader function, its first argument); it is called with that, the
            barrier, a stop event and its output file.

    Returns:
        Every writer's results, and the reader's document (``None`` without a reader).
    """
    barrier = SPAWN.Barrier(len(roles) + (1 if reader else 0))
    stop = SPAWN.Event()
    outs: list[Path] = []
    writers = []
    for n, (role, index) in enumerate(roles):
        out = tmp_path / f"writer-{n}.json"
        outs.append(out)
        writers.append(
            SPAWN.Process(target=role, args=(source, index, barrier, str(out)), daemon=True)
        )
    reader_out = tmp_path / "reader.json"
    watcher = None
    if reader is not None:
        function, argument = reader
        watcher = SPAWN.Process(
            target=function, args=(argument, barrier, stop, str(reader_out)), daemon=True
        )
        watcher.start()
    for p in writers:
        p.start()
    for p in writers:
        p.join(JOIN_S)
    stop.set()
    if watcher is not None:
        watcher.join(JOIN_S)
        assert watcher.exitcode == 0
    assert [p.exitcode for p in writers] == [0] * len(writers)
    results: list[Result] = []
    for out in outs:
        document = json.loads(out.read_text())
        assert document["crash"] is None, document["crash"]
        results.extend(document["results"])
    return results, json.loads(reader_out.read_text()) if reader else None


@dataclass(frozen=True)
class Reported:
    """The successes the writers reported, by operation."""

    ok: list[Result]
    creates: list[Result]
    deletes: list[Result]
    sets: list[Result]


def check_reports(
    results: list[Result], sampled: dict[str, Any] | None, rounds: Rounds
) -> Reported:
    """What the creator/deleter/setter race must have reported (the reader's view too)."""
    # Never zero or two defaults while rows existed, in any snapshot the reader took.
    assert sampled is not None
    assert sampled["with_rows"] > 0
    assert sampled["anomalies"] == []

    # Every operation either succeeded or was refused for a reason of the race itself.
    refused = Counter((r["op"], r["code"]) for r in results if r["ok"] is False)
    assert set(refused) <= {("set-default", "CA_NOT_FOUND"), ("delete", "CA_NOT_FOUND")}, refused
    ok = [r for r in results if r["ok"]]
    creates = [r for r in ok if r["op"] == "create"]
    deletes = [r for r in ok if r["op"] == "delete"]
    sets = [r for r in ok if r["op"] == "set-default"]
    assert len(creates) == 2 * rounds.creates_per_creator + rounds.rounds_per_deleter
    assert deletes and sets
    # A success reports its own effect, read back before the lock was let go.
    assert all(r["default"] for r in sets)
    assert all(r["default"] for r in creates if r["name"].startswith("Deleter"))
    return Reported(ok, creates, deletes, sets)


def check_successes_visible(state: StoreState, reported: Reported) -> None:
    """Every reported success is visible; every deleted CA kept its key in the archive."""
    deleted = {r["id"] for r in reported.deletes}
    assert len(deleted) == len(reported.deletes)
    live_ids = {row.id for row in state.rows.values()}
    for r in reported.creates:
        assert (r["id"] in live_ids) != (r["id"] in deleted), r
        if r["id"] in live_ids:
            assert state.rows[r["name"].lower()].id == r["id"]
    for r in reported.deletes:
        assert r["name"].lower() not in state.rows
        archived = state.archives[Path(r["archive"]).name]
        assert KEY in archived
        assert state.absent_from_trust(thumbprint_of(archived[CERT]))
