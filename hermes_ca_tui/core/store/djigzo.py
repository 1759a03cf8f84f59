"""The djigzo database: CipherMail's certificate store and certificate trust list (CTL).

Rows are always found by the certificate itself (its thumbprint), never by a snapshot
diff or a subject ``LIKE`` sweep (appliance-facts §7.5, §7.8), and the CTL entry is added
idempotently with the table's own id sequence, never ``MAX(id)+1`` (§7.9).
"""

from __future__ import annotations

from collections.abc import Sequence

from hermes_ca_tui.core.store.database import Database, Tx
from hermes_ca_tui.core.store.records import CmCertificate, NewCmCertificate, TrustEntry

ROOTS_STORE = "roots"
"""``cm_store_name`` of trust anchors."""

CTL_NAME = "global"
"""``cm_ctl.cm_name`` of the global trust list."""

STATUS_WHITELISTED = "whitelisted"
"""The CTL status the web page writes (lower case, appliance-facts §2.5)."""

ALLOW_EXPIRED_FALSE = "false"
"""The CTL ``allowExpired`` value the web page writes."""


def _stamp(moment: object) -> str:
    return str(moment)[:19].replace("T", " ")


class DjigzoRepository:
    """Reads and writes of CipherMail's tables, SQL written once for every engine."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def certificates(self, tx: Tx, thumbprint: str) -> list[CmCertificate]:
        """Every ``cm_certificates`` row holding this certificate, in any store."""
        rows = tx.all(
            "SELECT cm_id, cm_thumbprint, cm_store_name, cm_subject FROM cm_certificates "
            "WHERE cm_thumbprint = ? ORDER BY cm_id",
            (thumbprint,),
        )
        return [CmCertificate(int(r[0]), str(r[1]), r[2], r[3]) for r in rows]

    def insert_certificate(self, tx: Tx, row: NewCmCertificate) -> int:
        """Insert a certificate row as CipherMail would (``sql`` mode only)."""
        return int(
            tx.scalar(
                "INSERT INTO cm_certificates (cm_not_before, cm_not_after, cm_issuer, "
                "cm_issuer_friendly, cm_serial, cm_subject_key_identifier, cm_subject, "
                "cm_subject_friendly, cm_certificate, cm_thumbprint, cm_creation_date, "
                "cm_store_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING cm_id",
                (
                    _stamp(row.not_before),
                    _stamp(row.not_after),
                    row.issuer,
                    row.issuer_friendly,
                    row.serial,
                    row.subject_key_identifier,
                    row.subject,
                    row.subject_friendly,
                    row.certificate,
                    row.thumbprint,
                    _stamp(row.creation_date),
                    row.store_name,
                ),
            )
        )

    def move_to_store(self, tx: Tx, cm_id: int, store: str) -> None:
        """Set a row's store (CipherMail imports into its default store first)."""
        tx.execute("UPDATE cm_certificates SET cm_store_name = ? WHERE cm_id = ?", (store, cm_id))

    def ensure_ctl(self, tx: Tx, thumbprint: str) -> int:
        """Make the certificate whitelisted in the global CTL, with allowExpired=false.

        Idempotent: an existing entry is reused and its values corrected.

        Returns:
            The ``cm_ctl.cm_id`` of the entry.
        """
        return self.set_ctl(tx, thumbprint, STATUS_WHITELISTED, ALLOW_EXPIRED_FALSE)

    def set_ctl(
        self, tx: Tx, thumbprint: str, status: str | None, allow_expired: str | None
    ) -> int:
        """Give the certificate's global CTL entry these values (``None``: no such value).

        The entry is created when missing, with the table's own id sequence.

        Returns:
            The ``cm_ctl.cm_id`` of the entry.
        """
        ctl_id = tx.scalar(
            "SELECT cm_id FROM cm_ctl WHERE cm_name = ? AND cm_thumbprint = ?",
            (CTL_NAME, thumbprint),
        )
        if ctl_id is None:
            ctl_id = tx.scalar(
                "INSERT INTO cm_ctl (cm_name, cm_thumbprint) VALUES (?, ?) RETURNING cm_id",
                (CTL_NAME, thumbprint),
            )
        ctl_id = int(ctl_id)
        tx.execute(
            "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl = ? AND cm_name IN (?, ?)",
            (ctl_id, "status", "allowExpired"),
        )
        for name, value in (("status", status), ("allowExpired", allow_expired)):
            if value is not None:
                tx.execute(
                    "INSERT INTO cm_ctl_cm_name_values (cm_ctl, cm_value, cm_name) "
                    "VALUES (?, ?, ?)",
                    (ctl_id, value, name),
                )
        return ctl_id

    def remove_ctl(self, tx: Tx, thumbprint: str, *, name: str | None = None) -> int:
        """Remove the certificate's CTL entries (of list ``name``, or any); returns how many."""
        where, params = "cm_thumbprint = ?", [thumbprint]
        if name is not None:
            where, params = "cm_thumbprint = ? AND cm_name = ?", [thumbprint, name]
        ids = [int(r[0]) for r in tx.all(f"SELECT cm_id FROM cm_ctl WHERE {where}", params)]
        for ctl_id in ids:
            tx.execute("DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl = ?", (ctl_id,))
            tx.execute("DELETE FROM cm_ctl WHERE cm_id = ?", (ctl_id,))
        return len(ids)

    def remove_certificate_row(self, tx: Tx, cm_id: int) -> None:
        """Remove one ``cm_certificates`` row (and its e-mail index rows)."""
        tx.execute("DELETE FROM cm_certificates_email WHERE cm_certificates_id = ?", (cm_id,))
        tx.execute("DELETE FROM cm_certificates WHERE cm_id = ?", (cm_id,))

    def remove_certificate(self, tx: Tx, thumbprint: str) -> int:
        """Remove exactly this certificate's rows (and their e-mail index rows)."""
        ids = [c.cm_id for c in self.certificates(tx, thumbprint)]
        for cm_id in ids:
            tx.execute("DELETE FROM cm_certificates_email WHERE cm_certificates_id = ?", (cm_id,))
        if ids:
            tx.execute("DELETE FROM cm_certificates WHERE cm_thumbprint = ?", (thumbprint,))
        return len(ids)

    def trust_entries(self, tx: Tx, thumbprints: Sequence[str]) -> dict[str, TrustEntry]:
        """The standing of each given certificate in CipherMail.

        Two statements however many thumbprints (``list`` must not grow with the table):
        the certificate rows, and the CTL entries with their values.
        """
        unique = sorted(set(thumbprints))
        certs: dict[str, list[tuple[int, str | None]]] = {}
        ctl: dict[str, tuple[int, str | None, str | None]] = {}
        in_certs, param = tx.one_of("cm_thumbprint", unique)
        for r in tx.all(
            "SELECT cm_thumbprint, cm_id, cm_store_name FROM cm_certificates "
            f"WHERE {in_certs} ORDER BY cm_id",
            (param,),
        ):
            certs.setdefault(str(r[0]), []).append((int(r[1]), r[2]))
        in_ctl, param = tx.one_of("t.cm_thumbprint", unique)
        for r in tx.all(
            "SELECT t.cm_thumbprint, t.cm_id, s.cm_value, a.cm_value FROM cm_ctl t "
            "LEFT JOIN cm_ctl_cm_name_values s ON s.cm_ctl = t.cm_id AND s.cm_name = 'status' "
            "LEFT JOIN cm_ctl_cm_name_values a ON a.cm_ctl = t.cm_id "
            "AND a.cm_name = 'allowExpired' "
            f"WHERE t.cm_name = '{CTL_NAME}' AND {in_ctl}",
            (param,),
        ):
            ctl[str(r[0])] = (int(r[1]), r[2], r[3])
        result: dict[str, TrustEntry] = {}
        for tp in unique:
            rows = certs.get(tp, [])
            ctl_id, status, allow = ctl.get(tp, (None, None, None))
            result[tp] = TrustEntry(
                thumbprint=tp,
                cm_ids=tuple(r[0] for r in rows),
                stores=tuple(r[1] for r in rows),
                ctl_id=ctl_id,
                status=status,
                allow_expired=allow,
            )
        return result

    def root_certificates(self, tx: Tx) -> list[tuple[int, str, bytes | None, str | None]]:
        """Every roots-store row: (cm_id, thumbprint, DER, subject)."""
        rows = tx.all(
            "SELECT cm_id, cm_thumbprint, cm_certificate, cm_subject FROM cm_certificates "
            "WHERE cm_store_name = ? ORDER BY cm_id",
            (ROOTS_STORE,),
        )
        return [
            (int(r[0]), str(r[1] or ""), None if r[2] is None else bytes(r[2]), r[3]) for r in rows
        ]

    def ctl_thumbprints(self, tx: Tx) -> set[str]:
        """Thumbprints listed in the global CTL."""
        rows = tx.all("SELECT cm_thumbprint FROM cm_ctl WHERE cm_name = ?", (CTL_NAME,))
        return {str(r[0]) for r in rows}
