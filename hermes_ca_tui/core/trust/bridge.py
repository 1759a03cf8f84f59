"""Register and remove a CA certificate in CipherMail, whatever carries the import.

CipherMail must first *hold* the certificate (a ``cm_certificates`` row); an importer
does that: in ``sql`` mode by inserting the row, in ``docker`` mode by running CertStore
in the container. The bridge then finds the row by the certificate's own thumbprint,
moves it to the roots store and adds the trust-list entry, idempotently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.certinfo import thumbprint
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.store.djigzo import CTL_NAME, ROOTS_STORE, DjigzoRepository
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

    def holding(self, tp: str) -> dict[str, Any]:
        """How CipherMail holds a certificate right now, as JSON (for the journal).

        ``rows`` are ``[cm_id, store]`` pairs; ``ctl`` the values of the global trust-list
        entry, or ``None`` without one. :meth:`restore` puts exactly this back.
        """
        entry = self.trust_entries([tp]).get(tp)
        if entry is None or not entry.cm_ids:
            return {"rows": [], "ctl": None}
        return {
            "rows": [
                [cm_id, store] for cm_id, store in zip(entry.cm_ids, entry.stores, strict=True)
            ],
            "ctl": (
                None
                if entry.ctl_id is None
                else {"status": entry.status, "allowExpired": entry.allow_expired}
            ),
        }

    def restore(self, tp: str, held: dict[str, Any]) -> None:
        """Put a certificate's rows back as :meth:`holding` described them.

        A certificate CipherMail did not hold loses every row; one it held goes back to
        its stores and trust-list values (rows added since are removed).
        """
        before = {int(cm_id): store for cm_id, store in held.get("rows", [])}
        if not before:
            self.unregister_thumbprint(tp)
            return
        ctl = held.get("ctl")
        with self.djigzo.database.transaction() as tx:
            for row in self.djigzo.certificates(tx, tp):
                if row.cm_id not in before:
                    self.djigzo.remove_certificate_row(tx, row.cm_id)
                elif row.store_name != before[row.cm_id]:
                    self.djigzo.move_to_store(tx, row.cm_id, str(before[row.cm_id]))
            if ctl is None:
                self.djigzo.remove_ctl(tx, tp, name=CTL_NAME)
            else:
                self.djigzo.set_ctl(tx, tp, ctl.get("status"), ctl.get("allowExpired"))

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
