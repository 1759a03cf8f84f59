"""Operator-facing wording for every code the core reports.

This is the one place where codes become sentences. The CLI and the TUI both call
:func:`describe` / :func:`describe_notice`; the core itself only knows codes. Where the
appliance's web page has a text for a code, it is used unchanged (appliance-facts §1.1),
except for the file-upload wording, which says "file" instead of "upload".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hermes_ca_tui.core.errors import CaError, Code, Notice, WarningCode
from hermes_ca_tui.core.findings import FindingCode


@dataclass(frozen=True)
class Described:
    """A code turned into words."""

    code: str
    m: int | None
    heading: str
    text: str

    def one_line(self) -> str:
        """Return ``heading: text (CODE, m=N)`` for logs and the CLI."""
        tag = f"{self.code}, m={self.m}" if self.m is not None else self.code
        return f"{self.heading}: {self.text} ({tag})"

    def as_json(self) -> dict[str, Any]:
        """Return the ``error`` object of the CLI's JSON output."""
        return {"code": self.code, "m": self.m, "message": self.text}


_V = "Validation Error"

_ERRORS: dict[Code, tuple[str, str]] = {
    Code.CN_EMPTY: (_V, "The CA Common Name cannot be empty."),
    Code.CN_CHARSET: (_V, "The CA Common Name must contain only letters, numbers, and spaces."),
    Code.CN_TOO_LONG: (_V, "The CA Common Name must be at most {max} characters."),
    Code.ORG_EMPTY: (_V, "The Organization/Company Name cannot be empty."),
    Code.ORG_CHARSET: (
        _V,
        "The Organization/Company Name contains invalid characters "
        "(letters, numbers, spaces and commas only).",
    ),
    Code.ORG_TOO_LONG: (_V, "The Organization/Company Name must be at most {max} characters."),
    Code.UNIT_EMPTY: (_V, "The Organization Unit cannot be empty."),
    Code.UNIT_CHARSET: (
        _V,
        "The Organization Unit contains invalid characters "
        "(letters, numbers, spaces and underscores only).",
    ),
    Code.UNIT_TOO_LONG: (_V, "The Organization Unit must be at most {max} characters."),
    Code.STATE_EMPTY: (_V, "The State/Province cannot be empty."),
    Code.STATE_CHARSET: (_V, "The State/Province must contain only letters and spaces."),
    Code.STATE_TOO_LONG: (_V, "The State/Province must be at most {max} characters."),
    Code.COUNTRY_LENGTH: (_V, "The Country Code must be exactly 2 letters (e.g. US, GB, DE)."),
    Code.COUNTRY_CHARSET: (_V, "The Country Code must contain only letters."),
    Code.COUNTRY_UNKNOWN: (_V, "{value} is not an ISO 3166-1 country code (e.g. US, GB, DE)."),
    Code.KEY_SIZE_INVALID: (_V, "The key size must be 2048 or 4096 bits."),
    Code.VALIDITY_INVALID: (_V, "The validity must be a whole number of years from 1 to 5."),
    Code.DUPLICATE_NAME: ("Duplicate", "A Certificate Authority with that name already exists."),
    Code.CREATE_FAILED: (
        "Error",
        "An error occurred while creating the Certificate Authority: {reason}. "
        "Nothing was changed.",
    ),
    Code.IMPORT_FAILED: (
        "Error",
        "Failed to import the Certificate Authority: {reason}. Nothing was changed.",
    ),
    Code.IMPORT_NAME_EMPTY: (_V, "The CA Name for import cannot be empty."),
    Code.IMPORT_NAME_CHARSET: (
        _V,
        "The CA Name must contain only letters, numbers, and spaces.",
    ),
    Code.IMPORT_NAME_TOO_LONG: (_V, "The CA Name must be at most {max} characters."),
    Code.CERT_FILE_MISSING: (_V, "Please select a CA certificate file."),
    Code.KEY_FILE_MISSING: (_V, "Please select a CA private key file (or a PKCS#12 bundle)."),
    Code.FILE_UNREADABLE: ("Error", "The file {path} cannot be read: {reason}."),
    Code.FILE_TOO_LARGE: (
        "Error",
        "The file {path} is larger than {limit} bytes; a CA file is never that big.",
    ),
    Code.INVALID_CERT: (
        "Invalid Certificate",
        "The file is not a valid X.509 certificate. Please provide a PEM- or DER-encoded "
        "CA certificate.",
    ),
    Code.INVALID_KEY: (
        "Invalid Private Key",
        "The file is not a valid RSA private key. Please provide a PEM- or DER-encoded "
        "private key.",
    ),
    Code.KEY_NOT_RSA: (
        "Invalid Private Key",
        "Only RSA keys are supported, not {algorithm} keys.",
    ),
    Code.KEY_PASSPHRASE_REQUIRED: (
        "Passphrase Required",
        "The private key is encrypted. Provide its passphrase.",
    ),
    Code.KEY_PASSPHRASE_WRONG: (
        "Wrong Passphrase",
        "The passphrase does not decrypt the private key.",
    ),
    Code.PKCS12_INVALID: (
        "Invalid PKCS#12",
        "The PKCS#12 bundle cannot be read: the passphrase is wrong or the file is damaged.",
    ),
    Code.PKCS12_NO_KEY: (
        "Invalid PKCS#12",
        "The PKCS#12 bundle must hold both the CA certificate and its private key.",
    ),
    Code.KEY_MISMATCH: (
        "Key Mismatch",
        "The certificate and private key do not match. The private key must correspond "
        "to the certificate.",
    ),
    Code.NOT_CA: (
        "Not a CA Certificate",
        "The certificate does not have the CA:TRUE basic constraint. Only CA certificates "
        "can be imported here.",
    ),
    Code.CA_KEY_EXISTS: (
        "Duplicate",
        'This key already belongs to the Certificate Authority "{name}".',
    ),
    Code.WARNINGS_NOT_CONFIRMED: (
        "Confirmation Needed",
        "{count} warning(s) must be confirmed first (use --yes): {warnings}",
    ),
    Code.CONFIRMATION_REQUIRED: (
        "Confirmation Needed",
        "{what} needs confirmation; re-run with --yes.",
    ),
    Code.CA_NOT_FOUND: ("Error", 'No Certificate Authority matches "{ref}".'),
    Code.HAS_ISSUED_CERTS: (
        "Cannot Delete",
        "This Certificate Authority has issued certificates ({count}). Delete the "
        "associated user certificates first.",
    ),
    Code.RENEW_FILES_MISSING: (
        "Error",
        "Failed to renew Certificate Authority. Certificate or key files may be missing ({path}).",
    ),
    Code.RENEW_NOT_SELF_SIGNED: (
        "Cannot Renew",
        "This CA is not self-signed (issued by {issuer}). Re-signing it with its own key "
        "would turn it into a root and break its chain; renew it at its issuer instead.",
    ),
    Code.RENEW_SUBJECT_ENCODING: (
        "Error",
        "The renewed certificate's subject would not be byte-identical to the current one; "
        "nothing was changed.",
    ),
    Code.PLAN_STALE: (
        "Changed Meanwhile",
        "The Certificate Authority changed since the plan was made; review it again.",
    ),
    Code.DOWNLOADS_DISABLED: (
        "Access Denied",
        "CA file downloads are disabled. Set ALLOW_CA_DOWNLOAD=yes in {path} to enable.",
    ),
    Code.EXPORT_FILE_MISSING: ("Error", "CA file not found on disk: {path}."),
    Code.EXPORT_WHAT_INVALID: ("Error", "Invalid download request: {what}."),
    Code.OUTPUT_EXISTS: (
        "File Exists",
        "{path} already exists; confirm overwriting it (--force).",
    ),
    Code.OUTPUT_UNWRITABLE: ("Error", "Cannot write {path}: {reason}."),
    Code.PASSPHRASE_EMPTY: ("Validation Error", "The passphrase cannot be empty."),
    Code.PASSPHRASE_UNREADABLE: ("Error", "The passphrase file {path} cannot be read: {reason}."),
    Code.AUDIT_CHAIN_BROKEN: (
        "Audit Log Tampered",
        "The audit log chain breaks at line {line}: {reason}.",
    ),
    Code.NOTHING_TO_REPAIR: ("Nothing To Do", "No repairable finding matches."),
    Code.LOCK_TIMEOUT: (
        "Busy",
        "Another operator is changing Certificate Authorities ({path}); try again shortly.",
    ),
    Code.DATABASE_UNAVAILABLE: (
        "Database Unavailable",
        "The {database} database cannot be used: {reason}.",
    ),
    Code.TRUST_UNAVAILABLE: (
        "CipherMail Unavailable",
        "CipherMail cannot be reached: {reason}. {hint}",
    ),
    Code.TRUST_FAILED: (
        "CipherMail Error",
        "CipherMail did not accept the change: {reason}. Nothing was changed.",
    ),
    Code.STORAGE_FAILED: ("Storage Error", "Cannot write under {path}: {reason}."),
    Code.CONFIG_INVALID: ("Configuration Error", "{reason}"),
    Code.USAGE: ("Usage Error", "{reason}"),
    Code.INTERNAL: ("Internal Error", "{reason}"),
}

_NOTICES: dict[WarningCode, str] = {
    WarningCode.EXPIRED: "The certificate expired on {date}.",
    WarningCode.NOT_YET_VALID: "The certificate is not valid before {date}.",
    WarningCode.NO_KEY_CERT_SIGN: "The certificate's key usage does not include keyCertSign.",
    WarningCode.WEAK_SIGNATURE: "The certificate is signed with {algorithm}, which is obsolete.",
    WarningCode.WEAK_KEY: "The key has only {bits} bits; 2048 is the minimum today.",
    WarningCode.NOT_SELF_SIGNED: (
        "The certificate is issued by {issuer}; its chain goes into cachain.pem."
    ),
    WarningCode.CHAIN_INCOMPLETE: (
        "The certificate is issued by {issuer}, which is not among the files given; "
        "cachain.pem will be incomplete until the chain is added."
    ),
    WarningCode.PUBLISHED_KEY: (
        'DANGER: this is "{label}", whose private key was published in the Hermes '
        "source tree. Anyone can mint certificates from it. Do not trust it."
    ),
    WarningCode.AKI_NAMES_OLD_SERIAL: (
        "{count} issued certificate(s) name the current serial in their authority key "
        "identifier and will stop chaining to the renewed certificate: {names}"
    ),
    WarningCode.ISSUED_NOT_CHAINING: (
        "{count} issued certificate(s) would not verify against the renewed certificate: {names}"
    ),
    WarningCode.CLIENTS_MUST_UPDATE: (
        "Recipients who installed this CA by hand must install the renewed certificate."
    ),
}

_FINDINGS: dict[FindingCode, str] = {
    FindingCode.ROW_WITHOUT_TREE: "The database row has no CA folder on disk ({path}).",
    FindingCode.TREE_WITHOUT_ROW: (
        "The CA folder {path} has no database row. Import it to manage it again."
    ),
    FindingCode.CERT_MISSING: "The CA certificate is missing: {path}.",
    FindingCode.CERT_UNREADABLE: "The CA certificate cannot be parsed: {path}.",
    FindingCode.KEY_MISSING: "The CA private key is missing: {path}.",
    FindingCode.KEY_UNREADABLE: "The CA private key cannot be parsed: {path}.",
    FindingCode.KEY_CERT_MISMATCH: "The private key does not match the CA certificate.",
    FindingCode.PERMISSIONS: "{path} has mode {mode}; it must be {expected}.",
    FindingCode.TREE_INCOMPLETE: "The CA folder lacks {missing}.",
    FindingCode.CACHAIN_DIFFERS: "cachain.pem does not start with the CA certificate.",
    FindingCode.NOT_TRUSTED: "CipherMail has no root entry for this CA certificate.",
    FindingCode.NOT_IN_ROOTS: "CipherMail holds the certificate in store {store}, not roots.",
    FindingCode.CTL_MISSING: "CipherMail's trust list has no entry for this certificate.",
    FindingCode.NOT_WHITELISTED: (
        "CipherMail's trust list entry is {status} (allowExpired={allow_expired}), not whitelisted."
    ),
    FindingCode.TRUST_ORPHANED: (
        "CipherMail still trusts {subject} ({reason}); no current CA uses that certificate."
    ),
    FindingCode.DEFAULT_COUNT: "{count} CAs are marked default; exactly one must be.",
    FindingCode.EXPIRES_MISMATCH: (
        "The database says the CA expires {row}, the certificate says {cert}."
    ),
    FindingCode.DJIGZO_ID_MISMATCH: (
        "ca_djigzo_id is {row}; CipherMail's entry for this certificate is {actual}."
    ),
    FindingCode.DUPLICATE_DIRECTORY: "Several CAs share the folder {path}: {names}.",
    FindingCode.DUPLICATE_NAME: "Several CAs share the name {name}.",
    FindingCode.PUBLISHED_KEY: (
        'DANGER: this CA is "{label}", whose private key is public. Replace it.'
    ),
    FindingCode.TRUST_UNKNOWN: "CipherMail cannot be checked: {reason}.",
    FindingCode.SERIAL_INVALID: "The serial file does not hold a hexadecimal number: {path}.",
}

_FINDING_REPAIRS: dict[FindingCode, str] = {
    FindingCode.PERMISSIONS: "chmod {expected} {path}",
    FindingCode.TREE_INCOMPLETE: "create {missing} with the appliance defaults",
    FindingCode.CACHAIN_DIFFERS: "rewrite cachain.pem from certs/cacert.pem (keeping the chain)",
    FindingCode.NOT_TRUSTED: "register the certificate in CipherMail's roots store and trust list",
    FindingCode.NOT_IN_ROOTS: "move the CipherMail entry to the roots store",
    FindingCode.CTL_MISSING: "add the trust-list entry (whitelisted, allowExpired=false)",
    FindingCode.NOT_WHITELISTED: "set the trust-list entry to whitelisted, allowExpired=false",
    FindingCode.TRUST_ORPHANED: "remove exactly this certificate's CipherMail entries",
    FindingCode.DEFAULT_COUNT: "make {target} the only default",
    FindingCode.EXPIRES_MISMATCH: "set the row's expiry to {cert}",
    FindingCode.DJIGZO_ID_MISMATCH: "set ca_djigzo_id to {actual}",
}


SUCCESS: dict[str, tuple[int | None, str]] = {
    "create": (17, "Internal Certificate Authority created successfully."),
    "import": (36, "External Certificate Authority imported successfully."),
    "delete": (41, "Certificate Authority deleted successfully."),
    "set-default": (42, "Default Certificate Authority updated."),
    "renew": (43, "Certificate Authority renewed: it now expires on {expires}."),
    "export": (None, "Written to {path}."),
    "repair": (None, "{count} finding(s) repaired."),
}
"""Success texts per operation, with the web page's message number where it has one."""


def describe_success(operation: str, **params: Any) -> str:
    """The success sentence of an operation."""
    _, template = SUCCESS.get(operation, (None, "Done."))
    return _fill(template, params)


class _Defaulting(dict[str, Any]):
    """Format mapping that shows a missing parameter as ``?`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, params: Mapping[str, Any]) -> str:
    return template.format_map(_Defaulting(params))


def describe_code(code: Code, params: Mapping[str, Any] | None = None) -> Described:
    """Turn a code and its parameters into words.

    Args:
        code: The error code.
        params: Values for the sentence's placeholders.

    Returns:
        The heading, text, symbolic code and message number.
    """
    heading, template = _ERRORS.get(code, ("Error", code.name))
    return Described(code.name, code.m, heading, _fill(template, params or {}))


def describe(error: CaError) -> Described:
    """Turn a :class:`CaError` into words."""
    return describe_code(error.code, error.params)


def describe_notice(notice: Notice) -> str:
    """Turn a warning into one sentence."""
    return _fill(_NOTICES.get(notice.code, notice.code.name), notice.params)


def describe_finding(code: FindingCode, params: Mapping[str, Any]) -> str:
    """Turn a doctor finding into one sentence."""
    return _fill(_FINDINGS.get(code, code.name), params)


def describe_repair(code: FindingCode, params: Mapping[str, Any]) -> str | None:
    """Describe the fix ``--repair`` would apply for a finding, if it has one."""
    template = _FINDING_REPAIRS.get(code)
    return _fill(template, params) if template else None
