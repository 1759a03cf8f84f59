"""Facts read from a certificate: fingerprints, key, validity, extensions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from hermes_ca_tui.core.profile import is_self_signed

_KEY_USAGE_FLAGS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)

# Hermes shipped these CAs with their private keys in its public repository
# (appliance-facts §7.15). Any install still using them must be told loudly.
PUBLISHED_CAS: dict[str, str] = {
    "A1:B8:0B:0A:07:5A:E6:BD:AC:7A:6E:59:11:DD:53:71:80:FD:FC:F7:C5:44:F1:C0:54:85:6C:F5:46:E3"
    ":52:0E": "Hermes SEG Root CA (legacy sample)",
    "29:F0:5B:54:7B:2C:9B:6A:7A:1B:72:ED:EE:FF:B8:1D:D6:62:7F:87:75:A2:1D:12:43:20:78:42:02:6B"
    ":CE:61": "Hermes SEG Default Certificate Authority (legacy sample)",
}

# The same two CAs by SHA-256 of their public key: a renewed copy (same key, new
# certificate) is just as compromised.
PUBLISHED_KEYS: dict[str, str] = {
    "6276d778a5f43ec02e4bf9499f74a7b8316c04f781042b4002ac8313a5ccce1c": (
        "Hermes SEG Root CA (legacy sample)"
    ),
    "ffa2153e2da479a3628a9b90a0354cbe77e904088ff79d39fb07d43c45866284": (
        "Hermes SEG Default Certificate Authority (legacy sample)"
    ),
}


def colon_hex(data: bytes) -> str:
    """Format bytes as colon-separated upper-case hex (``AB:CD:...``)."""
    return ":".join(f"{b:02X}" for b in data)


def thumbprint(cert: x509.Certificate) -> str:
    """CipherMail's ``cm_thumbprint``: SHA-512 of the DER, 128 upper-case hex digits.

    This follows appliance-facts §6.3, which is an unverified recollection; check it
    against a live appliance before relying on it there.
    """
    return hashlib.sha512(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def spki_sha256(public_key: rsa.RSAPublicKey | x509.Certificate) -> str:
    """SHA-256 of the SubjectPublicKeyInfo, to spot one key behind several certificates."""
    key = public_key.public_key() if isinstance(public_key, x509.Certificate) else public_key
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def key_description(cert: x509.Certificate) -> tuple[str, int | None]:
    """Return the key algorithm's name and size in bits."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, None


@dataclass(frozen=True)
class ExtensionFacts:
    """One extension, readable."""

    name: str
    critical: bool
    value: str


@dataclass(frozen=True)
class CertFacts:
    """What an operator needs to know about a CA certificate."""

    subject: str
    issuer: str
    serial_hex: str
    sha256: str
    sha1: str
    thumbprint: str
    spki_sha256: str
    not_before: datetime
    not_after: datetime
    key_algorithm: str
    key_bits: int | None
    signature_algorithm: str
    signature_hash: str | None
    is_ca: bool
    key_usage: tuple[str, ...] | None
    subject_key_id: str | None
    authority_key_id: str | None
    authority_serial: int | None
    self_signed: bool
    extensions: tuple[ExtensionFacts, ...]
    published_as: str | None


def _key_usage_names(ku: x509.KeyUsage) -> tuple[str, ...]:
    names = [label for attr, label in _KEY_USAGE_FLAGS if getattr(ku, attr)]
    if ku.key_agreement:
        if ku.encipher_only:
            names.append("encipherOnly")
        if ku.decipher_only:
            names.append("decipherOnly")
    return tuple(names)


def _describe_extension(ext: x509.Extension[x509.ExtensionType]) -> ExtensionFacts:
    value = ext.value
    name = getattr(ext.oid, "_name", None) or ext.oid.dotted_string
    text: str
    if isinstance(value, x509.BasicConstraints):
        text = f"CA:{'TRUE' if value.ca else 'FALSE'}"
        if value.path_length is not None:
            text += f", pathlen:{value.path_length}"
    elif isinstance(value, x509.KeyUsage):
        text = ", ".join(_key_usage_names(value))
    elif isinstance(value, x509.SubjectKeyIdentifier):
        text = colon_hex(value.digest)
    elif isinstance(value, x509.AuthorityKeyIdentifier):
        parts = []
        if value.key_identifier:
            parts.append(f"keyid:{colon_hex(value.key_identifier)}")
        if value.authority_cert_serial_number is not None:
            parts.append(f"serial:{value.authority_cert_serial_number:X}")
        text = ", ".join(parts)
    elif isinstance(value, x509.ExtendedKeyUsage):
        text = ", ".join(getattr(u, "_name", u.dotted_string) for u in value)
    elif isinstance(value, x509.SubjectAlternativeName):
        text = ", ".join(str(getattr(g, "value", g)) for g in value)
    else:
        text = type(value).__name__
    return ExtensionFacts(name=name, critical=ext.critical, value=text)


def certificate_facts(cert: x509.Certificate) -> CertFacts:
    """Read everything ``show`` displays from a certificate."""
    der = cert.public_bytes(serialization.Encoding.DER)
    sha256 = colon_hex(hashlib.sha256(der).digest())
    algorithm, bits = key_description(cert)
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        key_usage: tuple[str, ...] | None = _key_usage_names(
            cert.extensions.get_extension_for_class(x509.KeyUsage).value
        )
    except x509.ExtensionNotFound:
        key_usage = None
    try:
        ski: str | None = colon_hex(
            cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        )
    except x509.ExtensionNotFound:
        ski = None
    aki_id: str | None = None
    aki_serial: int | None = None
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        aki_id = colon_hex(aki.key_identifier) if aki.key_identifier else None
        aki_serial = aki.authority_cert_serial_number
    except x509.ExtensionNotFound:
        pass
    hash_alg = cert.signature_hash_algorithm
    spki = spki_sha256(cert)
    return CertFacts(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial_hex=f"{cert.serial_number:X}",
        sha256=sha256,
        sha1=colon_hex(hashlib.sha1(der, usedforsecurity=False).digest()),
        thumbprint=hashlib.sha512(der).hexdigest().upper(),
        spki_sha256=spki,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_algorithm=algorithm,
        key_bits=bits,
        signature_algorithm=getattr(cert.signature_algorithm_oid, "_name", "unknown"),
        signature_hash=hash_alg.name if hash_alg else None,
        is_ca=is_ca,
        key_usage=key_usage,
        subject_key_id=ski,
        authority_key_id=aki_id,
        authority_serial=aki_serial,
        self_signed=is_self_signed(cert),
        extensions=tuple(_describe_extension(e) for e in cert.extensions),
        published_as=PUBLISHED_CAS.get(sha256) or PUBLISHED_KEYS.get(spki),
    )


def common_name(cert: x509.Certificate) -> str | None:
    """The certificate's first CN, if any."""
    values = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return str(values[0].value) if values else None
