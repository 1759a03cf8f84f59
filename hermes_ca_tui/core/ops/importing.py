"""import: bring an existing CA (certificate + key, or a PKCS#12 bundle) under management.

Checks run in the web page's order with its codes (appliance-facts §1.3): name (30, 31),
duplicate (18), certificate file (32), key file (33), then the contents: INVALID_CERT (48),
INVALID_KEY (49), KEY_MISMATCH (50), NOT_CA (51). Warnings follow; nothing is written
before all of it passed and the operator confirmed the warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core.certinfo import CertFacts, certificate_facts, spki_sha256
from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError, Code, FieldError, Notice, WarningCode
from hermes_ca_tui.core.keys import (
    MAX_INPUT_BYTES,
    key_matches,
    parse_certificates,
    parse_pkcs12,
    parse_private_key,
)
from hermes_ca_tui.core.ops.placement import NewCa, RowValues, check_key_free, check_name_free
from hermes_ca_tui.core.profile import is_self_signed, signed_by
from hermes_ca_tui.core.store.records import APPLIED_IMPORTED, ENCRYPTION_IMPORTED
from hermes_ca_tui.core.validation import check_import_name, normalise_import_name

_WEAK_HASHES = (hashes.SHA1, hashes.MD5)
MIN_KEY_BITS = 2048


@dataclass(frozen=True)
class ImportRequest:
    """What an operator supplies to import a CA.

    Either ``cert_file`` and ``key_file``, or ``pkcs12_file``. The passphrase decrypts
    an encrypted key or the bundle; it never leaves this object (not in ``repr``).
    """

    name: str
    cert_file: Path | None = None
    key_file: Path | None = None
    pkcs12_file: Path | None = None
    passphrase: bytes | None = field(default=None, repr=False)
    make_default: bool = False


@dataclass(frozen=True)
class ImportPlan:
    """A checked import, ready to commit once its warnings are confirmed."""

    name: str
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    facts: CertFacts
    warnings: tuple[Notice, ...]
    make_default: bool

    def to_new_ca(self) -> NewCa:
        """The placement request for this import (row values as the web page writes them)."""
        return NewCa(
            operation="import",
            name=self.name,
            key=self.key,
            certificate=self.certificate,
            chain=self.chain,
            row=RowValues(
                validity="0",
                encryption=ENCRYPTION_IMPORTED,
                organization="Imported",
                unit="Imported",
                state="Imported",
                country="XX",
                applied=APPLIED_IMPORTED,
                djigzo_subject=None,
            ),
            make_default=self.make_default,
        )


def read_input(path: Path | None, missing: Code, field_name: str) -> bytes:
    """Read an operator's file, refusing absent, unreadable and oversized ones.

    Raises:
        CaError: ``missing`` (m=32/33), FILE_UNREADABLE, FILE_TOO_LARGE.
    """
    if path is None or str(path) == "":
        raise CaError(missing, field=field_name)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise CaError(
            Code.FILE_UNREADABLE, field=field_name, path=str(path), reason=exc.strerror or "error"
        ) from None
    if len(data) > MAX_INPUT_BYTES:
        raise CaError(Code.FILE_TOO_LARGE, field=field_name, path=str(path), limit=MAX_INPUT_BYTES)
    return data


def check_input_file(path_text: str, missing: Code, field_name: str) -> FieldError | None:
    """Form rule for a file field: given, readable, at most 1 MiB (contents not parsed)."""
    text = path_text.strip()
    try:
        read_input(Path(text).expanduser() if text else None, missing, field_name)
    except CaError as exc:
        return FieldError(field_name, exc.code, exc.params)
    return None


def validate_import_fields(name: str, cert: str, key: str, pkcs12: str) -> list[FieldError]:
    """Check an import form's fields in the web page's order, without reading contents.

    Either a PKCS#12 bundle, or a certificate and a key. Duplicates need the database
    and contents need parsing: both are checked by :func:`inspect_import`.
    """
    failures = [check_import_name(name)]
    if pkcs12.strip():
        failures.append(check_input_file(pkcs12, Code.CERT_FILE_MISSING, "pkcs12"))
    else:
        failures.append(check_input_file(cert, Code.CERT_FILE_MISSING, "cert"))
        failures.append(check_input_file(key, Code.KEY_FILE_MISSING, "key"))
    return [f for f in failures if f is not None]


def _same_name(a: x509.Name, b: x509.Name) -> bool:
    return a.public_bytes() == b.public_bytes()


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    return _same_name(cert.issuer, issuer.subject) and signed_by(cert, issuer)


def build_chain(
    cert: x509.Certificate, pool: list[x509.Certificate]
) -> tuple[tuple[x509.Certificate, ...], bool]:
    """The issuers of ``cert`` found in ``pool``, nearest first; and whether complete."""
    chain: list[x509.Certificate] = []
    current = cert
    remaining = list(pool)
    while not is_self_signed(current):
        parent = next((c for c in remaining if _issued_by(current, c)), None)
        if parent is None:
            return tuple(chain), False
        chain.append(parent)
        remaining.remove(parent)
        current = parent
    return tuple(chain), True


def content_warnings(
    cert: x509.Certificate, facts: CertFacts, chain_complete: bool, now: datetime
) -> list[Notice]:
    """The warnings an operator must confirm for a CA certificate."""
    notices: list[Notice] = []
    if facts.published_as:
        notices.append(Notice(WarningCode.PUBLISHED_KEY, {"label": facts.published_as}))
    if now > facts.not_after:
        notices.append(Notice(WarningCode.EXPIRED, {"date": facts.not_after.date().isoformat()}))
    if now < facts.not_before:
        notices.append(Notice(WarningCode.NOT_YET_VALID, {"date": facts.not_before.isoformat()}))
    if facts.key_usage is None or "keyCertSign" not in facts.key_usage:
        notices.append(Notice(WarningCode.NO_KEY_CERT_SIGN))
    if isinstance(cert.signature_hash_algorithm, _WEAK_HASHES):
        notices.append(Notice(WarningCode.WEAK_SIGNATURE, {"algorithm": facts.signature_algorithm}))
    if facts.key_bits is not None and facts.key_bits < MIN_KEY_BITS:
        notices.append(Notice(WarningCode.WEAK_KEY, {"bits": facts.key_bits}))
    if not facts.self_signed:
        code = WarningCode.NOT_SELF_SIGNED if chain_complete else WarningCode.CHAIN_INCOMPLETE
        notices.append(Notice(code, {"issuer": facts.issuer}))
    return notices


def _material(
    request: ImportRequest,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate, list[x509.Certificate]]:
    if request.pkcs12_file is not None:
        data = read_input(request.pkcs12_file, Code.CERT_FILE_MISSING, "pkcs12")
        bundle = parse_pkcs12(data, request.passphrase)
        if not key_matches(bundle.key, bundle.certificate):
            raise CaError(Code.KEY_MISMATCH)
        return bundle.key, bundle.certificate, bundle.others
    cert_data = read_input(request.cert_file, Code.CERT_FILE_MISSING, "cert")
    key_data = read_input(request.key_file, Code.KEY_FILE_MISSING, "key")
    certs = parse_certificates(cert_data)
    key = parse_private_key(key_data, request.passphrase)
    mine = next((c for c in certs if key_matches(key, c)), None)
    if mine is None:
        raise CaError(Code.KEY_MISMATCH)
    return key, mine, [c for c in certs if c is not mine]


def inspect_import(ctx: Context, request: ImportRequest) -> ImportPlan:
    """Run every check of an import and collect its warnings, writing nothing.

    Raises:
        CaError: The first failing check, with the web page's code where it has one.
    """
    name = normalise_import_name(request.name)
    with ctx.hermes.database.transaction(write=False) as tx:
        check_name_free(ctx, tx, name)
    if request.pkcs12_file is not None and (request.cert_file or request.key_file):
        raise CaError(Code.INVALID_CERT, field="pkcs12")
    key, cert, others = _material(request)
    facts = certificate_facts(cert)
    if not facts.is_ca:
        raise CaError(Code.NOT_CA)
    with ctx.hermes.database.transaction(write=False) as tx:
        check_key_free(ctx, tx, spki_sha256(cert))
    chain, complete = build_chain(cert, others)
    return ImportPlan(
        name=name,
        key=key,
        certificate=cert,
        chain=chain,
        facts=facts,
        warnings=tuple(content_warnings(cert, facts, complete, ctx.clock())),
        make_default=request.make_default,
    )
