"""Reading and checking private keys and certificates from operator-supplied bytes.

Speed matters here (the import check must beat the web page's four ``openssl`` runs by
2x). ``cryptography`` validates an RSA key on load, which costs about 300 ms for 4096
bits because it tests the primes. We load with that validation skipped and check the
key arithmetically instead: ``p*q == n`` for the certificate's modulus and
``d*e == 1 (mod lcm(p-1, q-1))``, plus the CRT values. For a modulus taken from a
certificate, those identities only hold for its true factors, so a key that passes them
is the certificate's key and is internally consistent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from hermes_ca_tui.core.errors import CaError, Code

MAX_INPUT_BYTES = 1024 * 1024
"""Files over 1 MiB are refused: no CA certificate, key or bundle is that big."""

_PEM_MARK = b"-----BEGIN"


def _is_pem(data: bytes) -> bool:
    return _PEM_MARK in data


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """All certificates in a PEM bundle, or the one in a DER file.

    Raises:
        CaError: INVALID_CERT (m=48) when nothing parses.
    """
    try:
        if _is_pem(data):
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CaError(Code.INVALID_CERT) from None
    if not certs:
        raise CaError(Code.INVALID_CERT)
    return certs


def _algorithm_name(key: object) -> str:
    name = type(key).__name__
    for suffix in ("PrivateKey", "PublicKey"):
        name = name.removesuffix(suffix)
    return name.lstrip("_") or "unknown"


def _is_encrypted(data: bytes) -> bool:
    """Whether the key is encrypted (loading it without a passphrase asks for one).

    About one wrong passphrase in 256 decrypts to garbage with valid CBC padding; the
    loader then reports a parse error instead of a bad password. Such a key is still
    an encrypted key whose passphrase is wrong, not an invalid key.
    """
    loader = (
        serialization.load_pem_private_key if _is_pem(data) else serialization.load_der_private_key
    )
    try:
        loader(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError as exc:
        text = str(exc).lower()
        return "encrypted" in text and "not encrypted" not in text
    except Exception:
        return False
    return False


def parse_private_key(data: bytes, passphrase: bytes | None) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM or DER, PKCS#1 or PKCS#8, plain or encrypted.

    Raises:
        CaError: INVALID_KEY (m=49), KEY_NOT_RSA (m=49), KEY_PASSPHRASE_REQUIRED,
            KEY_PASSPHRASE_WRONG.
    """
    loader = (
        serialization.load_pem_private_key if _is_pem(data) else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=passphrase or None, unsafe_skip_rsa_key_validation=True)
    except TypeError as exc:
        text = str(exc).lower()
        if "not encrypted" in text:
            # A passphrase for a plain key is harmless: load it without one.
            return parse_private_key(data, None)
        if "encrypted" in text:
            raise CaError(Code.KEY_PASSPHRASE_REQUIRED, field="passphrase") from None
        raise CaError(Code.INVALID_KEY) from None
    except ValueError as exc:
        text = str(exc).lower()
        if passphrase and ("password" in text or "decrypt" in text or _is_encrypted(data)):
            raise CaError(Code.KEY_PASSPHRASE_WRONG, field="passphrase") from None
        raise CaError(Code.INVALID_KEY) from None
    except Exception:
        raise CaError(Code.INVALID_KEY) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CaError(Code.KEY_NOT_RSA, algorithm=_algorithm_name(key))
    return key


@dataclass(frozen=True)
class Pkcs12Contents:
    """What a PKCS#12 bundle held."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    others: list[x509.Certificate]


def parse_pkcs12(data: bytes, passphrase: bytes | None) -> Pkcs12Contents:
    """The key, certificate and extra certificates of a PKCS#12 bundle.

    Raises:
        CaError: PKCS12_INVALID (wrong passphrase or damaged), PKCS12_NO_KEY,
            KEY_NOT_RSA.
    """
    try:
        bundle = pkcs12.load_pkcs12(data, passphrase or None)
    except (ValueError, TypeError):
        raise CaError(Code.PKCS12_INVALID, field="passphrase") from None
    if bundle.key is None or bundle.cert is None:
        raise CaError(Code.PKCS12_NO_KEY)
    if not isinstance(bundle.key, rsa.RSAPrivateKey):
        raise CaError(Code.KEY_NOT_RSA, algorithm=_algorithm_name(bundle.key))
    return Pkcs12Contents(
        key=bundle.key,
        certificate=bundle.cert.certificate,
        others=[c.certificate for c in bundle.additional_certs],
    )


def key_matches(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bool:
    """Whether ``key`` is the private half of ``cert``'s RSA key, and is consistent.

    Pure integer arithmetic on the key's numbers; see the module docstring.
    """
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        return False
    mine = key.private_numbers()
    theirs = public.public_numbers()
    p, q, d = mine.p, mine.q, mine.d
    n, e = theirs.n, theirs.e
    if mine.public_numbers.n != n or mine.public_numbers.e != e:
        return False
    if p <= 1 or q <= 1 or p * q != n:
        return False
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    if (d * e) % lam != 1 % lam:
        return False
    return mine.dmp1 == d % (p - 1) and mine.dmq1 == d % (q - 1) and (mine.iqmp * q) % p == 1 % p


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (what ``openssl genrsa`` writes on OpenSSL 3)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_stored_key(data: bytes) -> rsa.RSAPrivateKey:
    """A key from a CA tree (unencrypted, written by us or by the web page)."""
    return parse_private_key(data, None)
