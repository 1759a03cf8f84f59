"""Helpers shared by the tests: clocks, PKI material, OpenSSL, the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from hermes_ca_tui.core.validation import CreateRequest

REPO = Path(__file__).resolve().parents[1]


class FixedClock:
    """A clock that says what the test wants."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


def create_request(name: str = "Test Root CA", **overrides: object) -> CreateRequest:
    """A valid create request; 2048-bit keys keep the suite fast."""
    values: dict[str, object] = {
        "common_name": name,
        "organization": "Acme, Inc",
        "unit": "IT_Security",
        "state": "North Carolina",
        "country": "US",
        "key_size": 2048,
        "years": 5,
    }
    values.update(overrides)
    return CreateRequest(**values)  # type: ignore[arg-type]


def create_args(cn: str) -> list[str]:
    """The CLI arguments of a valid ``create`` (2048-bit, 2 years), ``--json`` included."""
    return [
        "create",
        "--cn",
        cn,
        "--org",
        "Acme",
        "--unit",
        "IT",
        "--state",
        "Bavaria",
        "--country",
        "DE",
        "--key-size",
        "2048",
        "--years",
        "2",
        "--json",
    ]


@cache
def rsa_key(bits: int = 2048, index: int = 0) -> rsa.RSAPrivateKey:
    """A cached RSA key (generated once per size and index per test session)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(index: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def build_cert(
    subject_cn: str,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    issuer_cn: str | None = None,
    issuer_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
    ca: bool = True,
    key_cert_sign: bool = True,
    hash_alg: hashes.HashAlgorithm | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A certificate for import tests, self-signed unless an issuer is given."""
    now = datetime.now(UTC)
    issuer_key = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject_cn))
        .issuer_name(name(issuer_cn or subject_cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if key_cert_sign:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    return builder.sign(issuer_key, hash_alg or hashes.SHA256())  # type: ignore[arg-type]


@dataclass
class Files:
    cert: Path
    key: Path


def write_pair(
    folder: Path,
    cert: x509.Certificate | list[x509.Certificate],
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    der: bool = False,
    pkcs1: bool = False,
    passphrase: bytes | None = None,
    stem: str = "ca",
) -> Files:
    """Write certificate(s) and key in the requested encodings."""
    folder.mkdir(parents=True, exist_ok=True)
    certs = cert if isinstance(cert, list) else [cert]
    enc = serialization.Encoding.DER if der else serialization.Encoding.PEM
    cert_bytes = b"".join(c.public_bytes(enc) for c in certs)
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if pkcs1
        else serialization.PrivateFormat.PKCS8
    )
    protection: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    key_bytes = key.private_bytes(enc, fmt, protection)
    files = Files(folder / f"{stem}.{'der' if der else 'pem'}", folder / f"{stem}.key")
    files.cert.write_bytes(cert_bytes)
    files.key.write_bytes(key_bytes)
    return files


def openssl(
    *args: str, stdin: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run the real OpenSSL CLI (argv list, no shell)."""
    return subprocess.run(
        ["openssl", *args], input=stdin, capture_output=True, check=check, timeout=60
    )


def run_cli(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hermes_ca_tui --data-dir DIR ARGS`` in a subprocess."""
    full_env = dict(os.environ)
    full_env.pop("HERMES_CA_TUI_CRASH_AT", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hermes_ca_tui", "--data-dir", str(data_dir), *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=timeout,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
