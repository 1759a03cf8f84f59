"""The operation journal: what a half-finished operation needs to be rolled back or forward.

An operation writes its entry (atomically, fsynced) before its first durable step and
removes it after its last. An entry found at the next start, under the operation lock,
belongs to a process that died midway; :mod:`hermes_ca_tui.core.recovery` resolves it.
Entries hold certificates and paths, never private keys.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hermes_ca_tui.core.fsutil import (
    KEY_FILE_MODE,
    PRIVATE_DIR_MODE,
    atomic_write,
    fsync_dir,
    make_dir,
)


@dataclass
class JournalEntry:
    """One pending operation."""

    op_id: str
    operation: str
    started: str
    operator: str
    data: dict[str, Any] = field(default_factory=dict)
    phase: str = "begun"


class Journal:
    """A folder of pending-operation entries, one JSON file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, op_id: str) -> Path:
        return self.folder / f"{op_id}.json"

    def _write(self, entry: JournalEntry) -> None:
        payload = {
            "op_id": entry.op_id,
            "operation": entry.operation,
            "started": entry.started,
            "operator": entry.operator,
            "phase": entry.phase,
            "data": entry.data,
        }
        atomic_write(self._path(entry.op_id), json.dumps(payload, indent=1).encode(), KEY_FILE_MODE)

    def begin(
        self, operation: str, data: dict[str, Any], *, now: datetime, operator: str
    ) -> JournalEntry:
        """Record that an operation is starting; durable when this returns."""
        if not self.folder.is_dir():
            make_dir(self.folder, PRIVATE_DIR_MODE)
            fsync_dir(self.folder.parent)  # the new folder itself must survive power loss
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        entry = JournalEntry(
            op_id=f"{stamp}-{operation}-{secrets.token_hex(4)}",
            operation=operation,
            started=now.isoformat(),
            operator=operator,
            data=dict(data),
        )
        self._write(entry)
        return entry

    def update(self, entry: JournalEntry, phase: str, **data: Any) -> None:
        """Record progress (and facts learnt on the way, such as a new id)."""
        entry.phase = phase
        entry.data.update(data)
        self._write(entry)

    def finish(self, entry: JournalEntry) -> None:
        """The operation is complete (or fully undone): forget it."""
        path = self._path(entry.op_id)
        path.unlink(missing_ok=True)
        fsync_dir(self.folder)

    def pending(self) -> list[JournalEntry]:
        """Entries left behind, oldest first."""
        if not self.folder.is_dir():
            return []
        entries = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                entries.append(
                    JournalEntry(
                        op_id=str(raw["op_id"]),
                        operation=str(raw["operation"]),
                        started=str(raw.get("started", "")),
                        operator=str(raw.get("operator", "")),
                        data=dict(raw.get("data", {})),
                        phase=str(raw.get("phase", "begun")),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                # An entry torn before its first rename cannot exist (atomic_write), so
                # an unreadable one was damaged by hand: leave it for an operator.
                continue
        return entries
