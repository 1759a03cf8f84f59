"""The CA certificate profile: building a new root and re-signing it in place.

Profile (pki-and-peers §3.5): RSA 2048/4096, SHA-256, a random positive 159-bit serial,
``basicConstraints=critical,CA:TRUE`` without pathLen, ``keyUsage=critical,keyCertSign,
cRLSign``, SKI = SHA-1 of the key, AKI = keyid only, no EKU, notBefore backdated five
minutes. Renewal follows §3.6: same key, byte-identical subject, new serial, SKI kept,
no AKI that names the old serial.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hermes_ca_tui.core.errors import CaError, Code

BACKDATE = timedelta(minutes=5)
"""notBefore is set this far in the past so a skewed clock elsewhere accepts the cert."""

RENEW_YEARS = 5
"""Renewal extends the current expiry by this many calendar years (AF §4)."""

RENEW_FLOOR_DAYS = 1825
"""...but never to less than this many days from now (AF §4)."""

_STRONG_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


@dataclass(frozen=True)
class SubjectFields:
    """The distinguished-name fields of a CA we create, already validated."""

    common_name: str
    organization: str
    unit: str
    state: str
    country: str


def generate_key(bits: int) -> rsa.RSAPrivateKey:
    """Generate an RSA key with the public exponent 65537."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def build_subject(fields: SubjectFields) -> x509.Name:
    """Return ``C, ST, O, OU, CN`` in the order the web page's ``-subj`` uses.

    The country is a PrintableString (RFC 5280); the rest are UTF8Strings.
    """
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, fields.country),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, fields.state),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, fields.organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, fields.unit),
            x509.NameAttribute(NameOID.COMMON_NAME, fields.common_name),
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def build_ca_certificate(
    key: rsa.RSAPrivateKey, subject: x509.Name, days: int, now: datetime
) -> x509.Certificate:
    """Self-sign a new root CA certificate.

    Args:
        key: The CA's key.
        subject: Subject and issuer name.
        days: Lifetime counted from ``now`` (the web page's validity in days).
        now: The current time, timezone-aware.

    Returns:
        The signed certificate.
    """
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(private_key=key, algorithm=hashes.SHA256())
    )


def add_years(moment: datetime, years: int) -> datetime:
    """Add calendar years; 29 February becomes 28 February in a common year."""
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def renewal_not_after(current_not_after: datetime, now: datetime) -> datetime:
    """The renewed expiry: the later of (current expiry + 5 years) and (now + 1825 days).

    The web page computed this from the database's ``expires``; we use the
    certificate's own notAfter, which is the truth.
    """
    extended = add_years(current_not_after, RENEW_YEARS)
    floor = now + timedelta(days=RENEW_FLOOR_DAYS)
    return max(extended, floor).replace(microsecond=0)


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s name and key issued ``cert`` (its signature verifies).

    ``verify_directly_issued_by`` refuses SHA-1 signatures outright ("Unsupported
    signature algorithm"), yet SHA-1 roots and leaves minted with the appliance's old
    ``default_md = sha1`` exist: for RSA, the signature is then checked directly with
    the algorithm and padding the certificate names.
    """
    if cert.issuer.public_bytes() != issuer.subject.public_bytes():
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except (ValueError, TypeError):
        public = issuer.public_key()
        algorithm = cert.signature_hash_algorithm
        padding = cert.signature_algorithm_parameters
        if not isinstance(public, rsa.RSAPublicKey) or algorithm is None:
            return False
        try:
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding, algorithm)  # type: ignore[arg-type]
        except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
            return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """Whether the certificate's issuer is its subject and its own key verifies it."""
    return signed_by(cert, cert)


def renew_certificate(
    current: x509.Certificate,
    key: rsa.RSAPrivateKey,
    not_after: datetime,
    now: datetime,
    *,
    serial: int | None = None,
) -> x509.Certificate:
    """Re-sign a self-signed CA certificate with its own key.

    Args:
        current: The certificate in use.
        key: Its private key.
        not_after: The new expiry (see :func:`renewal_not_after`).
        now: The current time; notBefore is backdated from it.
        serial: The serial to use; a new random one when ``None``.

    Returns:
        The renewed certificate: same key, byte-identical subject, every extension kept
        except an authority key identifier, which is replaced by a keyid-only one.

    Raises:
        CaError: RENEW_NOT_SELF_SIGNED for an intermediate, RENEW_SUBJECT_ENCODING if the
            subject would not survive byte for byte (also when ``cryptography`` cannot
            read it at all, e.g. a T61String holding Latin-1 bytes).
    """
    try:
        current.subject.public_bytes()
        current.issuer.public_bytes()
    except ValueError:
        raise CaError(Code.RENEW_SUBJECT_ENCODING) from None
    if not is_self_signed(current):
        raise CaError(Code.RENEW_NOT_SELF_SIGNED, issuer=current.issuer.rfc4514_string())
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(current.subject)
        .issuer_name(current.subject)
        .public_key(public)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
    )
    for ext in current.extensions:
        if isinstance(ext.value, x509.AuthorityKeyIdentifier):
            # An old self-AKI may carry issuer+serial; the new serial would contradict it.
            continue
        builder = builder.add_extension(ext.value, critical=ext.critical)
    try:
        ski = current.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        ski = x509.SubjectKeyIdentifier.from_public_key(public)
    if any(isinstance(e.value, x509.AuthorityKeyIdentifier) for e in current.extensions):
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    algorithm = current.signature_hash_algorithm
    if not isinstance(algorithm, _STRONG_HASHES):
        algorithm = hashes.SHA256()
    renewed = builder.sign(private_key=key, algorithm=algorithm)
    if renewed.subject.public_bytes() != current.subject.public_bytes():
        raise CaError(Code.RENEW_SUBJECT_ENCODING)
    return renewed


def utc_now() -> datetime:
    """The current time in UTC, truncated to whole seconds as X.509 stores it."""
    return datetime.now(UTC).replace(microsecond=0)
