"""Small helpers shared by the operations: audit fields, error translation."""

from __future__ import annotations

import logging
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.certinfo import certificate_facts
from hermes_ca_tui.core.errors import CaError, Code

log = logging.getLogger("hermes_ca_tui.core")


def fingerprints(cert: x509.Certificate | None) -> dict[str, str]:
    """SHA-256 and SHA-1 fingerprints for an audit record."""
    if cert is None:
        return {}
    facts = certificate_facts(cert)
    return {"sha256": facts.sha256, "sha1": facts.sha1, "serial": facts.serial_hex}


def ca_ref(ca_id: int | None, name: str | None) -> dict[str, Any]:
    """The ``ca`` field of an audit record."""
    return {"id": ca_id, "name": name}


def as_ca_error(exc: BaseException, fallback: Code, **params: Any) -> CaError:
    """Turn anything raised during an operation into a :class:`CaError`.

    File-system failures become STORAGE_FAILED (an environment problem: disk full,
    permissions); anything unexpected becomes ``fallback`` with its first line.
    """
    if isinstance(exc, CaError):
        return exc
    if isinstance(exc, OSError):
        return CaError(
            Code.STORAGE_FAILED,
            path=str(exc.filename or "?"),
            reason=exc.strerror or type(exc).__name__,
        )
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return CaError(fallback, reason=reason, **params)


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def certs_pem(certs: list[x509.Certificate]) -> bytes:
    """PEM of several certificates, concatenated."""
    return b"".join(cert_pem(c) for c in certs)


def load_pem(text: str) -> x509.Certificate:
    """A certificate from journal PEM text."""
    return x509.load_pem_x509_certificate(text.encode())
