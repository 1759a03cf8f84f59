"""Register and remove a CA certificate in CipherMail, whatever carries the import.

CipherMail must first *hold* the certificate (a ``cm_certificates`` row); an importer
does that: in ``sql`` mode by inserting the row, in ``docker`` mode by running CertStore
in the container. The bridge then finds the row by the certificate's own thumbprint,
moves it to the roots store and adds the trust-list entry, idempotently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.certinfo import thumbprint
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.store.djigzo import ROOTS_STORE, DjigzoRepository
from hermes_ca_tui.core.store.records import TrustEntry


class CertificateImporter(Protocol):
    """Makes CipherMail hold a certificate (in whichever store it imports into)."""

    mode: str

    def import_certificate(self, cert: x509.Certificate) -> None:
        """Import the certificate; raise :class:`CaError` on failure."""

    def check(self) -> None:
        """Raise TRUST_UNAVAILABLE when the importer cannot work right now."""

    def describe(self) -> str:
        """One line naming where certificates go (for headers and ``config check``)."""


class CipherMailBridge:
    """The CA side of CipherMail: roots store plus global CTL.

    Args:
        djigzo: CipherMail's tables.
        importer: What makes CipherMail hold a new certificate.
    """

    def __init__(self, djigzo: DjigzoRepository, importer: CertificateImporter) -> None:
        self.djigzo = djigzo
        self.importer = importer

    @property
    def mode(self) -> str:
        """``sql`` or ``docker``."""
        return self.importer.mode

    def describe(self) -> str:
        """Where trust changes go."""
        return self.importer.describe()

    def register(self, cert: x509.Certificate) -> int:
        """Make the certificate a whitelisted root; returns its ``cm_certificates.cm_id``.

        Idempotent: a certificate CipherMail already holds is not imported again.

        Raises:
            CaError: TRUST_UNAVAILABLE / TRUST_FAILED when CipherMail cannot take it.
        """
        tp = thumbprint(cert)
        with self.djigzo.database.transaction() as tx:
            held = self.djigzo.certificates(tx, tp)
        if not held:
            self.importer.import_certificate(cert)
        with self.djigzo.database.transaction() as tx:
            rows = self.djigzo.certificates(tx, tp)
            if not rows:
                raise CaError(
                    Code.TRUST_FAILED,
                    reason="the imported certificate did not appear in cm_certificates",
                )
            root = next((r for r in rows if r.store_name == ROOTS_STORE), None)
            if root is None:
                root = rows[0]
                self.djigzo.move_to_store(tx, root.cm_id, ROOTS_STORE)
            self.djigzo.ensure_ctl(tx, tp)
            return root.cm_id

    def unregister(self, cert: x509.Certificate) -> None:
        """Remove exactly this certificate's rows: CTL entry, certificate rows."""
        self.unregister_thumbprint(thumbprint(cert))

    def unregister_thumbprint(self, tp: str) -> None:
        """Remove the rows of the certificate with this thumbprint."""
        with self.djigzo.database.transaction() as tx:
            self.djigzo.remove_ctl(tx, tp)
            self.djigzo.remove_certificate(tx, tp)

    def ensure_trusted(self, cert: x509.Certificate) -> int:
        """Same as :meth:`register`; reads better in repairs."""
        return self.register(cert)

    def trust_entries(self, thumbprints: Sequence[str]) -> dict[str, TrustEntry]:
        """The standing of each certificate; raises DATABASE_UNAVAILABLE if unreachable."""
        with self.djigzo.database.transaction(write=False) as tx:
            return self.djigzo.trust_entries(tx, thumbprints)


def pem(cert: x509.Certificate) -> bytes:
    """The certificate as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)
