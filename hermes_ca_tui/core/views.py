"""What list and show return: a CA seen across the three stores."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hermes_ca_tui.core.certinfo import CertFacts
from hermes_ca_tui.core.store.records import CaRecord
from hermes_ca_tui.core.trust.state import TrustState

EXPIRY_WARNING_DAYS = 90
"""Under this many days left, the expiry shows amber "N days" (appliance-facts §1.8)."""


class ExpiryStatus(enum.Enum):
    """How urgent a CA's expiry is."""

    OK = "ok"
    SOON = "soon"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def expiry_status(days_left: int | None) -> ExpiryStatus:
    """Classify days left: expired below 0, soon below 90."""
    if days_left is None:
        return ExpiryStatus.UNKNOWN
    if days_left < 0:
        return ExpiryStatus.EXPIRED
    if days_left < EXPIRY_WARNING_DAYS:
        return ExpiryStatus.SOON
    return ExpiryStatus.OK


def days_left(not_after: datetime | None, now: datetime) -> int | None:
    """Whole days from now until expiry; negative once expired."""
    if not_after is None:
        return None
    seconds = (not_after - now).total_seconds()
    return int(seconds // 86400)


@dataclass(frozen=True)
class CaSummary:
    """One row of the CA table."""

    id: int
    name: str
    directory: str
    imported: bool
    expires: date | None
    days_left: int | None
    key_bits: int | None
    default: bool
    issued: int
    trust: TrustState
    serial: str | None
    sha256: str | None
    sha1: str | None
    problem: str | None = None

    @property
    def type(self) -> str:
        """``internal`` or ``imported``."""
        return "imported" if self.imported else "internal"

    @property
    def expiry(self) -> ExpiryStatus:
        """Urgency of the expiry."""
        return expiry_status(self.days_left)

    def as_json(self) -> dict[str, Any]:
        """The CLI's JSON object for a CA."""
        return {
            "id": self.id,
            "name": self.name,
            "directory": self.directory,
            "type": self.type,
            "expires": self.expires.isoformat() if self.expires else None,
            "days_left": self.days_left,
            "key_bits": self.key_bits,
            "default": self.default,
            "issued": self.issued,
            "trust": self.trust.value,
            "serial": self.serial,
            "sha256": self.sha256,
            "sha1": self.sha1,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class CaDetails:
    """Everything ``show`` displays."""

    summary: CaSummary
    facts: CertFacts | None
    tree: str
    row_expires: date | None
    djigzo_id: int | None
    chain: tuple[str, ...]
    record: CaRecord

    def as_json(self) -> dict[str, Any]:
        """The summary's JSON plus the certificate's details."""
        data = self.summary.as_json()
        data.update(
            {
                "tree": self.tree,
                "row_expires": self.row_expires.isoformat() if self.row_expires else None,
                "djigzo_id": self.djigzo_id,
                "chain": list(self.chain),
            }
        )
        f = self.facts
        if f is not None:
            data.update(
                {
                    "subject": f.subject,
                    "issuer": f.issuer,
                    "not_before": f.not_before.isoformat(),
                    "not_after": f.not_after.isoformat(),
                    "key_algorithm": f.key_algorithm,
                    "signature_algorithm": f.signature_algorithm,
                    "self_signed": f.self_signed,
                    "subject_key_id": f.subject_key_id,
                    "thumbprint": f.thumbprint,
                    "extensions": [
                        {"name": e.name, "critical": e.critical, "value": e.value}
                        for e in f.extensions
                    ],
                    "published_key": f.published_as,
                }
            )
        return data
