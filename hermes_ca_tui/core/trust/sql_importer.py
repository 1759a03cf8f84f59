"""``sql`` mode: write CipherMail's certificate row directly (embedded default, tests).

The row is filled the way CipherMail's own import fills it as far as the appliance's
schema shows (appliance-facts §2.5, §6.3). The thumbprint rule is unverified on a live
appliance; see :func:`hermes_ca_tui.core.certinfo.thumbprint`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.certinfo import thumbprint
from hermes_ca_tui.core.store.djigzo import ROOTS_STORE, DjigzoRepository
from hermes_ca_tui.core.store.records import NewCmCertificate


def x500(name: x509.Name) -> str:
    """A name as Java's X500Principal prints it: most specific first, ``, `` between."""
    return ", ".join(reversed([rdn.rfc4514_string() for rdn in name.rdns]))


class SqlImporter:
    """Inserts the ``cm_certificates`` row itself, straight into the roots store."""

    mode = "sql"

    def __init__(self, djigzo: DjigzoRepository, clock: Callable[[], datetime]) -> None:
        self._djigzo = djigzo
        self._clock = clock

    def import_certificate(self, cert: x509.Certificate) -> None:
        """Insert the row unless one with the same thumbprint exists."""
        tp = thumbprint(cert)
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ski_hex: str | None = ski.digest.hex().upper()
        except x509.ExtensionNotFound:
            ski_hex = None
        row = NewCmCertificate(
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            issuer=x500(cert.issuer),
            issuer_friendly=x500(cert.issuer),
            serial=f"{cert.serial_number:X}",
            subject_key_identifier=ski_hex,
            subject=x500(cert.subject),
            subject_friendly=x500(cert.subject),
            certificate=cert.public_bytes(serialization.Encoding.DER),
            thumbprint=tp,
            creation_date=self._clock(),
            store_name=ROOTS_STORE,
        )
        with self._djigzo.database.transaction() as tx:
            if not self._djigzo.certificates(tx, tp):
                self._djigzo.insert_certificate(tx, row)

    def check(self) -> None:
        """The djigzo database is the only dependency; nothing else to check."""

    def describe(self) -> str:
        """Where trust changes go."""
        return "sql mode"
