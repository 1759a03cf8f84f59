"""Error values of the core: a code, the web page's message number, and a kind.

The core never formats operator-facing sentences. It raises :class:`CaError` carrying a
:class:`Code` and the parameters the sentence needs; the edges (CLI, TUI) turn it into
words once, through :mod:`hermes_ca_tui.messages`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


class Kind(enum.Enum):
    """What an error means for the caller; the value is the CLI exit code."""

    INTERNAL = 1
    USAGE = 2
    REFUSED = 3
    ENVIRONMENT = 4


class Code(enum.Enum):
    """Every error and warning the core can report.

    Each member carries ``m``, the message number of the appliance's Internal CA page
    where it has one (appliance-facts §1.1), and ``kind``. Codes without an ``m`` are
    our own additions.
    """

    m: int | None
    kind: Kind

    def __new__(cls, m: int | None, kind: Kind) -> Code:
        """Attach the message number and kind to each member."""
        obj = object.__new__(cls)
        # A running number keeps members distinct even when (m, kind) repeat.
        obj._value_ = len(cls.__members__) + 1
        obj.m = m
        obj.kind = kind
        return obj

    # --- create: field validation, in the web page's order -------------------------
    CN_EMPTY = (1, Kind.REFUSED)
    CN_CHARSET = (2, Kind.REFUSED)
    CN_TOO_LONG = (None, Kind.REFUSED)
    ORG_EMPTY = (9, Kind.REFUSED)
    ORG_CHARSET = (10, Kind.REFUSED)
    ORG_TOO_LONG = (None, Kind.REFUSED)
    UNIT_EMPTY = (11, Kind.REFUSED)
    UNIT_CHARSET = (12, Kind.REFUSED)
    UNIT_TOO_LONG = (None, Kind.REFUSED)
    STATE_EMPTY = (13, Kind.REFUSED)
    STATE_CHARSET = (14, Kind.REFUSED)
    STATE_TOO_LONG = (None, Kind.REFUSED)
    COUNTRY_LENGTH = (15, Kind.REFUSED)
    COUNTRY_CHARSET = (16, Kind.REFUSED)
    COUNTRY_UNKNOWN = (None, Kind.REFUSED)
    KEY_SIZE_INVALID = (None, Kind.REFUSED)
    VALIDITY_INVALID = (None, Kind.REFUSED)
    DUPLICATE_NAME = (18, Kind.REFUSED)
    CREATE_FAILED = (19, Kind.INTERNAL)
    IMPORT_FAILED = (34, Kind.INTERNAL)

    # --- import ----------------------------------------------------------------------
    IMPORT_NAME_EMPTY = (30, Kind.REFUSED)
    IMPORT_NAME_CHARSET = (31, Kind.REFUSED)
    IMPORT_NAME_TOO_LONG = (None, Kind.REFUSED)
    CERT_FILE_MISSING = (32, Kind.REFUSED)
    KEY_FILE_MISSING = (33, Kind.REFUSED)
    FILE_UNREADABLE = (None, Kind.REFUSED)
    FILE_TOO_LARGE = (None, Kind.REFUSED)
    INVALID_CERT = (48, Kind.REFUSED)
    INVALID_KEY = (49, Kind.REFUSED)
    KEY_NOT_RSA = (49, Kind.REFUSED)
    KEY_PASSPHRASE_REQUIRED = (None, Kind.REFUSED)
    KEY_PASSPHRASE_WRONG = (None, Kind.REFUSED)
    PKCS12_INVALID = (None, Kind.REFUSED)
    PKCS12_NO_KEY = (None, Kind.REFUSED)
    KEY_MISMATCH = (50, Kind.REFUSED)
    NOT_CA = (51, Kind.REFUSED)
    CA_KEY_EXISTS = (None, Kind.REFUSED)
    WARNINGS_NOT_CONFIRMED = (None, Kind.REFUSED)
    CONFIRMATION_REQUIRED = (None, Kind.REFUSED)

    # --- lookups and the other operations --------------------------------------------
    CA_NOT_FOUND = (None, Kind.REFUSED)
    HAS_ISSUED_CERTS = (40, Kind.REFUSED)
    RENEW_FILES_MISSING = (44, Kind.REFUSED)
    RENEW_NOT_SELF_SIGNED = (None, Kind.REFUSED)
    RENEW_SUBJECT_ENCODING = (None, Kind.INTERNAL)
    PLAN_STALE = (None, Kind.REFUSED)
    DOWNLOADS_DISABLED = (45, Kind.REFUSED)
    EXPORT_FILE_MISSING = (47, Kind.REFUSED)
    EXPORT_WHAT_INVALID = (46, Kind.USAGE)
    OUTPUT_EXISTS = (None, Kind.REFUSED)
    OUTPUT_UNWRITABLE = (None, Kind.REFUSED)
    PASSPHRASE_EMPTY = (None, Kind.REFUSED)
    PASSPHRASE_UNREADABLE = (None, Kind.REFUSED)
    AUDIT_CHAIN_BROKEN = (None, Kind.REFUSED)
    NOTHING_TO_REPAIR = (None, Kind.REFUSED)

    # --- environment -----------------------------------------------------------------
    LOCK_TIMEOUT = (None, Kind.ENVIRONMENT)
    DATABASE_UNAVAILABLE = (None, Kind.ENVIRONMENT)
    TRUST_UNAVAILABLE = (None, Kind.ENVIRONMENT)
    TRUST_FAILED = (None, Kind.ENVIRONMENT)
    STORAGE_FAILED = (None, Kind.ENVIRONMENT)
    CONFIG_INVALID = (None, Kind.ENVIRONMENT)

    # --- usage and internal --------------------------------------------------------------------
    USAGE = (None, Kind.USAGE)
    INTERNAL = (None, Kind.INTERNAL)


class WarningCode(enum.Enum):
    """Conditions an operator must confirm before an import or renew commits."""

    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    NO_KEY_CERT_SIGN = "NO_KEY_CERT_SIGN"
    WEAK_SIGNATURE = "WEAK_SIGNATURE"
    WEAK_KEY = "WEAK_KEY"
    NOT_SELF_SIGNED = "NOT_SELF_SIGNED"
    CHAIN_INCOMPLETE = "CHAIN_INCOMPLETE"
    PUBLISHED_KEY = "PUBLISHED_KEY"
    AKI_NAMES_OLD_SERIAL = "AKI_NAMES_OLD_SERIAL"
    ISSUED_NOT_CHAINING = "ISSUED_NOT_CHAINING"
    CLIENTS_MUST_UPDATE = "CLIENTS_MUST_UPDATE"


@dataclass(frozen=True)
class Notice:
    """A warning with the parameters its sentence needs."""

    code: WarningCode
    params: dict[str, Any] = dc_field(default_factory=dict)


class CaError(Exception):
    """The one exception type the core raises for anything an operator should read.

    Args:
        code: What went wrong.
        field: The input field at fault, when there is one (for forms).
        **params: Values for the message text. Never secrets.
    """

    def __init__(self, code: Code, *, field: str | None = None, **params: Any) -> None:
        super().__init__(code.name)
        self.code = code
        self.field = field
        self.params: dict[str, Any] = params

    @property
    def m(self) -> int | None:
        """The web page's message number, if it has one."""
        return self.code.m

    @property
    def kind(self) -> Kind:
        """Error category; its value is the CLI exit code."""
        return self.code.kind

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.code.name}({details})" if details else self.code.name


@dataclass(frozen=True)
class FieldError:
    """A validation failure attached to one form field."""

    field: str
    code: Code
    params: dict[str, Any] = dc_field(default_factory=dict)

    def to_error(self) -> CaError:
        """Return the exception form of this failure."""
        return CaError(self.code, field=self.field, **self.params)
