"""Row shapes of the tables the tool reads and writes (appliance-facts §2.2, §2.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

DEFAULT_YES = 1
"""``ca_settings.default2`` for the default CA."""

DEFAULT_NO = 2
"""``ca_settings.default2`` for every other CA."""

APPLIED_CREATED = 2
"""``ca_settings.applied`` as the web page writes it on create."""

APPLIED_IMPORTED = 1
"""``ca_settings.applied`` as the web page writes it on import."""

ENCRYPTION_IMPORTED = "imported"
"""``ca_settings.encryption`` marker of an imported CA."""


@dataclass(frozen=True)
class CaRecord:
    """One ``ca_settings`` row, with its issued-certificate count."""

    id: int
    common_name: str
    directory: str
    validity: str | None
    expires: date | None
    encryption: str | None
    organization: str | None
    unit: str | None
    state: str | None
    country: str | None
    applied: int | None
    default: bool
    djigzo_id: int | None
    djigzo_subject: str | None
    issued: int = 0

    @property
    def imported(self) -> bool:
        """Whether the web page would label this row "Imported"."""
        return (self.encryption or "").strip().lower() == ENCRYPTION_IMPORTED


@dataclass(frozen=True)
class NewCaRow:
    """Values for a new ``ca_settings`` row, exactly as the web page would write them."""

    common_name: str
    directory: str
    validity: str
    expires: date
    encryption: str
    organization: str
    unit: str
    state: str
    country: str
    applied: int
    default: bool
    djigzo_id: int | None
    djigzo_subject: str | None


@dataclass(frozen=True)
class CmCertificate:
    """The columns of a ``cm_certificates`` row that CipherMail's trust depends on."""

    cm_id: int
    thumbprint: str
    store_name: str | None
    subject: str | None = None


@dataclass(frozen=True)
class TrustEntry:
    """A certificate's standing in CipherMail: its store and its trust-list entry."""

    thumbprint: str
    cm_ids: tuple[int, ...]
    stores: tuple[str | None, ...]
    ctl_id: int | None
    status: str | None
    allow_expired: str | None


@dataclass(frozen=True)
class NewCmCertificate:
    """A ``cm_certificates`` row for ``sql`` mode, filled as CipherMail would."""

    not_before: datetime
    not_after: datetime
    issuer: str
    issuer_friendly: str
    serial: str
    subject_key_identifier: str | None
    subject: str
    subject_friendly: str
    certificate: bytes
    thumbprint: str
    creation_date: datetime
    store_name: str
