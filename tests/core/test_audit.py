"""The hash-chained audit log: verification, tampering, torn lines, concurrent appends."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hermes_ca_tui.core.audit import GENESIS, AuditLog, operator_name, record_hash
from tests.support import FixedClock

FIELDS = ["seq", "time", "operator", "operation", "ca", "fingerprints", "outcome", "details"]


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "audit.jsonl", FixedClock())


def fill(log: AuditLog, count: int = 5) -> list[dict[str, Any]]:
    return [
        log.append(
            "create",
            "ok",
            ca={"id": n, "name": f"CA {n}"},
            fingerprints={"sha256": f"{n:02X}" * 32},
            details={"n": n},
            operator="alice",
        )
        for n in range(1, count + 1)
    ]


def lines_of(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def write_lines(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(lines))


def tamper(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return {"tampered": True}
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return {**value, "tampered": True}


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- the chain ----------------------------------------------------------------------


def test_an_untouched_log_verifies_with_every_record(log: AuditLog) -> None:
    written = fill(log, 5)
    result = log.verify()
    assert result.ok
    assert result.records == 5
    assert result.broken_line is None
    assert result.reason is None
    assert not result.torn_tail
    assert log.records() == written
    assert [r["seq"] for r in written] == [1, 2, 3, 4, 5]


def test_each_record_chains_to_the_previous_hash_from_the_genesis(log: AuditLog) -> None:
    written = fill(log, 3)
    assert written[0]["prev"] == GENESIS == "0" * 64
    assert [r["prev"] for r in written[1:]] == [r["hash"] for r in written[:-1]]


def test_the_hash_is_sha256_over_the_canonical_json_without_the_hash(log: AuditLog) -> None:
    record = fill(log, 1)[0]
    body = {k: v for k, v in record.items() if k != "hash"}
    assert record["hash"] == hashlib.sha256(canonical(body)).hexdigest()
    assert record_hash(record) == record["hash"]
    assert log.path.read_bytes() == canonical(record) + b"\n"


def test_a_record_carries_time_operator_operation_ca_fingerprints_and_outcome(
    log: AuditLog,
) -> None:
    record = log.append(
        "export-key",
        "ok",
        ca={"id": 7, "name": "Root"},
        fingerprints={"sha256": "AB"},
        details={"encrypted": True},
        operator="bob",
    )
    assert record["time"] == "2026-12-03T12:00:00+00:00"
    assert record["operator"] == "bob"
    assert record["operation"] == "export-key"
    assert record["ca"] == {"id": 7, "name": "Root"}
    assert record["fingerprints"] == {"sha256": "AB"}
    assert record["outcome"] == "ok"
    assert record["details"] == {"encrypted": True}


def test_non_ascii_values_are_kept_and_verify(log: AuditLog) -> None:
    log.append("import", "ok", ca={"id": 1, "name": "Grüße CA ✓"}, operator="zoë")
    assert log.verify().ok
    assert log.records()[0]["ca"]["name"] == "Grüße CA ✓"


def test_a_missing_log_verifies_as_empty(tmp_path: Path) -> None:
    result = AuditLog(tmp_path / "none.jsonl", FixedClock()).verify()
    assert result.ok
    assert result.records == 0


def test_the_log_file_is_created_private(log: AuditLog) -> None:
    fill(log, 1)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


# --- tampering ----------------------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_editing_any_field_of_a_middle_line_breaks_the_chain_at_that_line(
    log: AuditLog, field: str
) -> None:
    fill(log, 5)
    lines = lines_of(log)
    record = json.loads(lines[2])
    record[field] = tamper(record[field])
    lines[2] = canonical(record) + b"\n"
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok
    assert result.broken_line == 3
    assert result.reason == "content was altered"
    assert result.records == 2


def test_editing_the_hash_of_a_middle_line_breaks_the_chain_at_that_line(log: AuditLog) -> None:
    fill(log, 5)
    lines = lines_of(log)
    record = json.loads(lines[2])
    record["hash"] = "f" * 64
    lines[2] = canonical(record) + b"\n"
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line, result.reason) == (False, 3, "content was altered")


def test_editing_the_prev_link_of_a_middle_line_breaks_the_chain_at_that_line(
    log: AuditLog,
) -> None:
    fill(log, 5)
    lines = lines_of(log)
    record = json.loads(lines[2])
    record["prev"] = GENESIS
    record["hash"] = record_hash(record)
    lines[2] = canonical(record) + b"\n"
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line) == (False, 3)
    assert result.reason == "does not follow the previous record"


def test_an_edited_line_with_a_recomputed_hash_breaks_the_chain_at_the_next_line(
    log: AuditLog,
) -> None:
    fill(log, 5)
    lines = lines_of(log)
    record = json.loads(lines[2])
    record["outcome"] = "refused:DOWNLOADS_DISABLED"
    record["hash"] = record_hash(record)
    lines[2] = canonical(record) + b"\n"
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line, result.records) == (False, 4, 3)
    assert result.reason == "does not follow the previous record"


def test_a_raw_byte_edit_that_breaks_the_json_is_reported_at_that_line(log: AuditLog) -> None:
    fill(log, 5)
    lines = lines_of(log)
    lines[1] = lines[1][:10] + b"\xff" + lines[1][11:]
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line) == (False, 2)


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_deleting_a_line_breaks_the_chain_where_it_was(log: AuditLog, index: int) -> None:
    fill(log, 5)
    lines = lines_of(log)
    del lines[index]
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok
    assert result.broken_line == index + 1
    assert result.reason == "does not follow the previous record"


@pytest.mark.parametrize(("i", "j"), [(1, 2), (0, 4), (2, 3)])
def test_reordering_lines_breaks_the_chain_at_the_first_moved_line(
    log: AuditLog, i: int, j: int
) -> None:
    fill(log, 5)
    lines = lines_of(log)
    lines[i], lines[j] = lines[j], lines[i]
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok
    assert result.broken_line == i + 1


def test_a_forged_line_inserted_in_the_middle_breaks_the_chain_after_it(log: AuditLog) -> None:
    written = fill(log, 4)
    forged = {**written[2], "operation": "delete", "prev": written[1]["hash"]}
    forged["hash"] = record_hash(forged)
    lines = lines_of(log)
    lines.insert(2, canonical(forged) + b"\n")
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line) == (False, 4)


def test_a_duplicated_line_breaks_the_chain(log: AuditLog) -> None:
    fill(log, 3)
    lines = lines_of(log)
    lines.insert(2, lines[1])
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line) == (False, 3)


def test_an_empty_line_in_the_middle_breaks_the_chain(log: AuditLog) -> None:
    fill(log, 3)
    lines = lines_of(log)
    lines.insert(1, b"\n")
    write_lines(log, lines)
    result = log.verify()
    assert (result.ok, result.broken_line, result.reason) == (False, 2, "not a JSON record")


# --- torn tail ----------------------------------------------------------------------


def test_a_torn_last_line_is_reported_as_torn_but_the_chain_is_ok(log: AuditLog) -> None:
    written = fill(log, 3)
    torn = canonical({**written[-1], "seq": 4})[:57]
    with log.path.open("ab") as handle:
        handle.write(torn)
    result = log.verify()
    assert result.ok
    assert result.torn_tail
    assert result.records == 3
    assert log.records() == written


def test_the_next_append_drops_a_torn_line_and_notes_it(log: AuditLog) -> None:
    written = fill(log, 3)
    torn = b'{"ca":{"id":4,"name":"CA 4"},"det'
    with log.path.open("ab") as handle:
        handle.write(torn)
    record = log.append("delete", "ok", operator="alice")
    assert record["seq"] == 4
    assert record["prev"] == written[-1]["hash"]
    assert record["details"] == {"torn_line_dropped_bytes": len(torn)}
    assert log.path.read_bytes().endswith(canonical(record) + b"\n")
    assert torn not in log.path.read_bytes()
    result = log.verify()
    assert (result.ok, result.records, result.torn_tail) == (True, 4, False)


def test_the_note_about_a_torn_line_keeps_the_callers_details(log: AuditLog) -> None:
    fill(log, 1)
    with log.path.open("ab") as handle:
        handle.write(b'{"seq":2')
    record = log.append("renew", "ok", details={"serial": "AB"}, operator="alice")
    assert record["details"] == {"serial": "AB", "torn_line_dropped_bytes": 8}


def test_a_log_holding_only_a_torn_line_starts_the_chain_afresh(log: AuditLog) -> None:
    log.path.parent.mkdir(parents=True)
    log.path.write_bytes(b'{"seq":1,"time":"2026-')
    assert log.verify().ok
    assert log.verify().torn_tail
    record = log.append("create", "ok", operator="alice")
    assert (record["seq"], record["prev"]) == (1, GENESIS)
    assert record["details"] == {"torn_line_dropped_bytes": 22}
    assert log.verify().records == 1


def test_a_record_longer_than_the_tail_window_still_chains(log: AuditLog) -> None:
    first = log.append("import", "ok", details={"chain": "A" * 200_000}, operator="alice")
    with log.path.open("ab") as handle:
        handle.write(b'{"torn":')
    second = log.append("renew", "ok", operator="alice")
    assert second["seq"] == 2
    assert second["prev"] == first["hash"]
    assert second["details"] == {"torn_line_dropped_bytes": 8}
    assert log.verify().ok
    assert log.verify().records == 2


@pytest.mark.parametrize("size", [65_000, 65_536, 70_000, 200_000])
def test_the_record_after_a_record_longer_than_the_tail_window_chains_to_it(
    log: AuditLog, size: int
) -> None:
    fill(log, 2)
    long = log.append("import", "ok", details={"chain": "B" * size}, operator="alice")
    after = log.append("renew", "ok", operator="alice")
    assert (after["seq"], after["prev"]) == (4, long["hash"])
    assert "torn_line_dropped_bytes" not in after["details"]
    assert log.verify().ok
    assert log.verify().records == 4


# --- operator -----------------------------------------------------------------------


def test_the_operator_is_the_sudo_caller_before_the_login_user(
    monkeypatch: pytest.MonkeyPatch, log: AuditLog
) -> None:
    monkeypatch.setenv("SUDO_USER", "alice")
    monkeypatch.setenv("USER", "root")
    assert operator_name() == "alice"
    assert log.append("delete", "ok")["operator"] == "alice"
    monkeypatch.delenv("SUDO_USER")
    assert operator_name() == "root"


# --- several processes at once ------------------------------------------------------

WORKERS = 4
PER_WORKER = 25


def _append_many(path: str, worker: int, start: Any) -> None:
    log = AuditLog(Path(path), lambda: datetime.now(UTC))
    start.wait()
    for n in range(PER_WORKER):
        log.append("set-default", "ok", details={"worker": worker, "n": n}, operator=f"w{worker}")


def test_appends_from_several_processes_at_once_give_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WORKERS)
    processes = [
        context.Process(target=_append_many, args=(str(path), w, start)) for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    log = AuditLog(path, FixedClock())
    result = log.verify()
    assert result.ok, result
    assert result.records == WORKERS * PER_WORKER
    seen = sorted((r["details"]["worker"], r["details"]["n"]) for r in log.records())
    assert seen == [(w, n) for w in range(WORKERS) for n in range(PER_WORKER)]
    assert os.path.getsize(path) == len(path.read_bytes())
