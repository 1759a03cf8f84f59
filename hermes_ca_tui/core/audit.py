"""The audit trail: one hash-chained JSON line per mutating operation.

Each record carries the SHA-256 of the previous record (``prev``) and its own hash over
its canonical JSON (``hash``), so editing, inserting or removing a line in the middle
breaks the chain at that line. Appends take an exclusive ``flock`` on the log and are
fsynced. A line torn by a crash mid-write is cut off (and noted) by the next append.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
_TAIL = 65536


def operator_name() -> str:
    """Who is acting: the sudo caller if any, else the login user."""
    for var in ("SUDO_USER", "USER", "LOGNAME"):
        value = os.environ.get(var)
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:
        return f"uid:{os.getuid()}"


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    """The hash a record must carry: SHA-256 over its canonical JSON without ``hash``."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True)
class AuditVerification:
    """Result of checking the chain."""

    ok: bool
    records: int
    broken_line: int | None = None
    reason: str | None = None
    torn_tail: bool = False


class AuditLog:
    """Append-only, hash-chained JSONL log.

    Args:
        path: The log file (created 0600 with its folder on first use).
        clock: Returns the current time (timezone-aware).
    """

    def __init__(self, path: Path, clock: Callable[[], datetime]) -> None:
        self.path = Path(path)
        self._clock = clock

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _last_record(fd: int) -> tuple[dict[str, Any] | None, int]:
        """The last complete record and the offset where the complete lines end."""
        size = os.fstat(fd).st_size
        start = max(0, size - _TAIL)
        os.lseek(fd, start, os.SEEK_SET)
        tail = os.read(fd, size - start)
        end = tail.rfind(b"\n")
        if start > 0 and tail.rfind(b"\n", 0, max(end, 0)) < 0:
            # The last complete line starts before the tail window (a record longer
            # than the window): read the whole file, or that record is cut in half.
            os.lseek(fd, 0, os.SEEK_SET)
            tail = os.read(fd, size)
            start = 0
            end = tail.rfind(b"\n")
        if end < 0:
            return None, 0
        complete_end = start + end + 1
        lines = tail[:end].split(b"\n")
        last = lines[-1] if lines else b""
        if not last.strip():
            return None, complete_end
        try:
            return json.loads(last), complete_end
        except ValueError:
            return None, complete_end

    def append(
        self,
        operation: str,
        outcome: str,
        *,
        ca: dict[str, Any] | None = None,
        fingerprints: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
        operator: str | None = None,
    ) -> dict[str, Any]:
        """Append one record and return it.

        Args:
            operation: What was done (``create``, ``export-key`` ...).
            outcome: ``ok``, ``refused:<CODE>``, ``failed:<CODE>``, ``recovered-forward`` ...
            ca: ``{"id": ..., "name": ...}`` of the CA concerned.
            fingerprints: SHA-256 (and others) of the certificates concerned.
            details: Anything else worth keeping. Never secrets.
            operator: Who acted; defaults to :func:`operator_name`.
        """
        with self._locked() as fd:
            size = os.fstat(fd).st_size
            last, complete_end = self._last_record(fd)
            notes = dict(details or {})
            if complete_end != size:
                # A crash tore the last line; it was never a complete record.
                os.ftruncate(fd, complete_end)
                notes["torn_line_dropped_bytes"] = size - complete_end
            prev = str(last.get("hash", GENESIS)) if last else GENESIS
            seq = int(last.get("seq", 0)) + 1 if last else 1
            record: dict[str, Any] = {
                "seq": seq,
                "time": self._clock().isoformat(),
                "operator": operator or operator_name(),
                "operation": operation,
                "ca": ca,
                "fingerprints": fingerprints or {},
                "outcome": outcome,
                "details": notes,
                "prev": prev,
            }
            record["hash"] = record_hash(record)
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, _canonical(record) + b"\n")
            os.fsync(fd)
            return record

    def verify(self) -> AuditVerification:
        """Walk the chain from the first line; report the first break."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return AuditVerification(True, 0)
        torn = bool(data) and not data.endswith(b"\n")
        lines = data.split(b"\n")
        if torn or (lines and lines[-1] == b""):
            lines = lines[:-1]
        prev = GENESIS
        count = 0
        for number, raw in enumerate(lines, start=1):
            try:
                record = json.loads(raw)
            except ValueError:
                return AuditVerification(False, count, number, "not a JSON record", torn)
            if not isinstance(record, dict):
                return AuditVerification(False, count, number, "not a JSON object", torn)
            if record.get("prev") != prev:
                return AuditVerification(
                    False, count, number, "does not follow the previous record", torn
                )
            if record.get("hash") != record_hash(record):
                return AuditVerification(False, count, number, "content was altered", torn)
            if record.get("seq") != number:
                return AuditVerification(False, count, number, "sequence number is wrong", torn)
            prev = str(record["hash"])
            count += 1
        return AuditVerification(True, count, None, None, torn)

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first (for tests and the TUI)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out = []
        for raw in data.split(b"\n"):
            if raw.strip():
                with contextlib.suppress(ValueError):
                    out.append(json.loads(raw))
        return out
