"""A stand-in for CipherMail's ``CertStore --import-certificates`` (appliance-facts §6.2).

It does what the real tool does to the djigzo database, as far as the appliance's schema
shows (appliance-facts §2.5, §6.3): it reads PEM certificates from stdin and inserts one
``cm_certificates`` row per new certificate into CipherMail's *default* store
(``certificates``, not ``roots``: moving the row to the roots store is Hermes's job), with
the thumbprint (SHA-512 of the DER, upper-case hex), issuer, subject, serial, SKI, dates
and the DER filled in, plus the e-mail index rows of the addresses the certificate names.

Two callers, one implementation:

- the podman tier runs this file inside the ``hermes_ciphermail`` container with the
  project's interpreter, as ``python certstore_standin.py --config FILE
  --import-certificates`` (the database lives behind a bind-mounted unix socket);
- the fake Docker engine of the unit tier calls :func:`respond` in-process.

Knobs (``mode`` in the settings) make it misbehave the ways the bridge must survive:
``fail`` (non-zero exit with text on stderr), ``silent`` (exit 0, nothing inserted),
``other`` (exit 0 after importing a *different* certificate), ``hang`` (no exit until
released; then killed, or importing late with ``after_hang = "import"``).

Only the standard library, ``cryptography`` and ``psycopg`` are used: nothing of the
project under test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

IMPORT_FLAG = "--import-certificates"
DEFAULT_STORE = "certificates"
"""Where CipherMail's import puts a certificate before Hermes moves it to ``roots``."""

MODES = ("ok", "fail", "silent", "other", "hang")
HANG_CAP_S = 300.0
"""A hang that nobody releases still ends (the engine tier must not leave it behind)."""


@dataclass
class Settings:
    """How the stand-in behaves; the podman tier keeps this as JSON in a mounted file."""

    dsn: str = ""
    store: str = DEFAULT_STORE
    mode: str = "ok"
    fail_code: int = 3
    fail_text: str = (
        "Exception in thread main java.sql.SQLException: Connections could not be acquired"
    )
    other_pem: str | None = None
    after_hang: str = "killed"
    """After a released hang: ``killed`` (exit 137, nothing inserted) or ``import``."""
    release_file: str | None = None
    """The podman tier's hang ends when this file exists."""

    def to_json(self) -> str:
        """The settings as the mounted config file holds them."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """Settings from the config file."""
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Outcome:
    """What a CertStore run returns: exit code and output."""

    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""


def ciphermail_thumbprint(der: bytes) -> str:
    """``cm_thumbprint``: SHA-512 of the DER, upper-case hex (appliance-facts §6.3)."""
    return hashlib.sha512(der).hexdigest().upper()


def java_name(name: x509.Name) -> str:
    """A name as Java's X500Principal prints it: most specific first, ``, `` between."""
    return ", ".join(reversed([rdn.rfc4514_string() for rdn in name.rdns]))


def email_addresses(cert: x509.Certificate) -> list[str]:
    """The addresses CipherMail indexes: subject emailAddress and rfc822Name SANs."""
    found = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        found += san.get_values_for_type(x509.RFC822Name)
    except x509.ExtensionNotFound:
        pass
    return sorted({a.lower() for a in found})


def _ski(cert: x509.Certificate) -> str | None:
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return ski.digest.hex().upper()


def insert_certificate(conn: psycopg.Connection[Any], cert: x509.Certificate, store: str) -> bool:
    """Insert one certificate row (and its e-mail rows); False if the store holds it."""
    der = cert.public_bytes(serialization.Encoding.DER)
    thumbprint = ciphermail_thumbprint(der)
    held = conn.execute(
        "SELECT 1 FROM cm_certificates WHERE cm_store_name = %s AND cm_thumbprint = %s",
        (store, thumbprint),
    ).fetchone()
    if held:
        return False
    row = conn.execute(
        "INSERT INTO cm_certificates (cm_not_before, cm_not_after, cm_issuer, "
        "cm_issuer_friendly, cm_serial, cm_subject_key_identifier, cm_subject, "
        "cm_subject_friendly, cm_certificate, cm_thumbprint, cm_creation_date, "
        "cm_store_name) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "RETURNING cm_id",
        (
            cert.not_valid_before_utc.replace(tzinfo=None),
            cert.not_valid_after_utc.replace(tzinfo=None),
            java_name(cert.issuer),
            java_name(cert.issuer),
            # CipherMail keeps the serial as hex.
            f"{cert.serial_number:X}",
            _ski(cert),
            java_name(cert.subject),
            java_name(cert.subject),
            der,
            thumbprint,
            datetime.now(UTC).replace(tzinfo=None),
            store,
        ),
    ).fetchone()
    assert row is not None
    for address in email_addresses(cert):
        conn.execute(
            "INSERT INTO cm_certificates_email (cm_certificates_id, cm_email) VALUES (%s, %s)",
            (row[0], address),
        )
    return True


def import_certificates(pem: bytes, dsn: str, store: str = DEFAULT_STORE) -> Outcome:
    """What ``CertStore --import-certificates`` does with PEM on stdin."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        return Outcome(1, b"", f"no certificates could be read from the input: {exc}\n".encode())
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn, conn.transaction():
            added = sum(insert_certificate(conn, c, store) for c in certs)
    except psycopg.Error as exc:
        return Outcome(1, b"", f"java.sql.SQLException: {exc}\n".encode())
    return Outcome(0, f"{added} new certificate(s) imported\n".encode(), b"")


def respond(
    argv: Sequence[str], stdin: bytes, settings: Settings, wait: Callable[[], bool]
) -> Outcome:
    """One CertStore run: ``argv`` is what follows the tool's own command.

    Args:
        argv: The tool's arguments (``--import-certificates``).
        stdin: What the caller wrote before shutting the write half.
        settings: The knobs.
        wait: Blocks a ``hang`` until released; returns whether it was released.
    """
    if list(argv) != [IMPORT_FLAG]:
        usage = f"usage: CertStore {IMPORT_FLAG} < certificates.pem (got {list(argv)})\n"
        return Outcome(2, b"", usage.encode())
    if settings.mode not in MODES:
        return Outcome(2, b"", f"unknown stand-in mode {settings.mode!r}\n".encode())
    if settings.mode == "fail":
        return Outcome(settings.fail_code, b"", settings.fail_text.encode() + b"\n")
    if settings.mode == "silent":
        return Outcome(0)
    if settings.mode == "other":
        assert settings.other_pem, "mode 'other' needs other_pem"
        return import_certificates(settings.other_pem.encode(), settings.dsn, settings.store)
    if settings.mode == "hang":
        released = wait()
        if not released or settings.after_hang != "import":
            return Outcome(137, b"", b"Killed\n")
    return import_certificates(stdin, settings.dsn, settings.store)


def _wait_for_file(path: str | None) -> Callable[[], bool]:
    def wait() -> bool:
        deadline = time.monotonic() + HANG_CAP_S
        while time.monotonic() < deadline:
            if path and Path(path).exists():
                return True
            time.sleep(0.05)
        return False

    return wait


def main(argv: Sequence[str] | None = None) -> int:
    """Run as the container's CertStore; the config file names the database and knobs."""
    parser = argparse.ArgumentParser(prog="CertStore")
    parser.add_argument("--config", type=Path, required=True)
    known, rest = parser.parse_known_args(argv)
    settings = Settings.from_json(known.config.read_text(encoding="utf-8"))
    outcome = respond(
        rest, sys.stdin.buffer.read(), settings, _wait_for_file(settings.release_file)
    )
    sys.stdout.buffer.write(outcome.stdout)
    sys.stderr.buffer.write(outcome.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
