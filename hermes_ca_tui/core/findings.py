"""Doctor findings: the kinds of drift between the three stores."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class FindingCode(enum.Enum):
    """Each kind of drift ``doctor`` can report."""

    ROW_WITHOUT_TREE = "ROW_WITHOUT_TREE"
    TREE_WITHOUT_ROW = "TREE_WITHOUT_ROW"
    CERT_MISSING = "CERT_MISSING"
    CERT_UNREADABLE = "CERT_UNREADABLE"
    KEY_MISSING = "KEY_MISSING"
    KEY_UNREADABLE = "KEY_UNREADABLE"
    KEY_CERT_MISMATCH = "KEY_CERT_MISMATCH"
    PERMISSIONS = "PERMISSIONS"
    TREE_INCOMPLETE = "TREE_INCOMPLETE"
    CACHAIN_DIFFERS = "CACHAIN_DIFFERS"
    NOT_TRUSTED = "NOT_TRUSTED"
    NOT_IN_ROOTS = "NOT_IN_ROOTS"
    CTL_MISSING = "CTL_MISSING"
    NOT_WHITELISTED = "NOT_WHITELISTED"
    TRUST_ORPHANED = "TRUST_ORPHANED"
    DEFAULT_COUNT = "DEFAULT_COUNT"
    EXPIRES_MISMATCH = "EXPIRES_MISMATCH"
    DJIGZO_ID_MISMATCH = "DJIGZO_ID_MISMATCH"
    DUPLICATE_DIRECTORY = "DUPLICATE_DIRECTORY"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    PUBLISHED_KEY = "PUBLISHED_KEY"
    TRUST_UNKNOWN = "TRUST_UNKNOWN"
    SERIAL_INVALID = "SERIAL_INVALID"


@dataclass(frozen=True)
class Finding:
    """One drift found by ``doctor``.

    Attributes:
        code: The kind of drift.
        ca: The CA's name, or a path/subject when no CA row is involved.
        ca_id: The row id, when a row is involved.
        repairable: Whether ``--repair`` can fix it safely.
        params: Values for the message and the repair description.
        fix: Opaque data the repair step needs (paths, thumbprints, ids).
    """

    code: FindingCode
    ca: str
    ca_id: int | None = None
    repairable: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    fix: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A stable identifier for selecting this finding for repair."""
        target = self.fix.get("target") or self.params.get("path") or ""
        return f"{self.code.value}:{self.ca_id if self.ca_id is not None else self.ca}:{target}"
