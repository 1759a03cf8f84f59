"""The hermes database: ``ca_settings`` and the ``recipient_certificates`` that use a CA.

Every method takes the :class:`~hermes_ca_tui.core.store.database.Tx` it runs in, so
that an operation decides what belongs in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from hermes_ca_tui.core.store.database import Database, Tx
from hermes_ca_tui.core.store.records import DEFAULT_NO, DEFAULT_YES, CaRecord, NewCaRow

_COLUMNS = (
    "c.id, c.ca_commonname, c.ca_directory, c.validity, c.expires, c.encryption, "
    "c.organizationname, c.unitname, c.stateprovincename, c.countryname, c.applied, "
    "c.default2, c.ca_djigzo_id, c.ca_djigzo_subject"
)

_WITH_ISSUED = (
    f"SELECT {_COLUMNS}, COALESCE(r.n, 0) FROM ca_settings c "
    "LEFT JOIN (SELECT ca_id, COUNT(*) AS n FROM recipient_certificates GROUP BY ca_id) r "
    "ON r.ca_id = c.id"
)


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _record(row: Any) -> CaRecord:
    return CaRecord(
        id=int(row[0]),
        common_name=str(row[1] or ""),
        directory=str(row[2] or ""),
        validity=None if row[3] is None else str(row[3]),
        expires=_as_date(row[4]),
        encryption=None if row[5] is None else str(row[5]),
        organization=row[6],
        unit=row[7],
        state=row[8],
        country=row[9],
        applied=_as_int(row[10]),
        default=_as_int(row[11]) == DEFAULT_YES,
        djigzo_id=_as_int(row[12]),
        djigzo_subject=row[13],
        issued=int(row[14]) if len(row) > 14 and row[14] is not None else 0,
    )


class HermesRepository:
    """Reads and writes of the hermes database, SQL written once for every engine."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def list_cas(self, tx: Tx) -> list[CaRecord]:
        """Every CA with its issued count, in one statement (the web page did N+1)."""
        rows = tx.all(f"{_WITH_ISSUED} ORDER BY LOWER(c.ca_commonname), c.id")
        return [_record(r) for r in rows]

    def get_ca(self, tx: Tx, ca_id: int) -> CaRecord | None:
        """One CA by id, with its issued count."""
        row = tx.one(f"{_WITH_ISSUED} WHERE c.id = ?", (ca_id,))
        return _record(row) if row else None

    def find_by_name(self, tx: Tx, name: str) -> list[CaRecord]:
        """CAs whose name equals ``name`` ignoring case and trailing spaces."""
        rows = tx.all(
            f"{_WITH_ISSUED} WHERE LOWER(RTRIM(c.ca_commonname)) = LOWER(RTRIM(?)) ORDER BY c.id",
            (name,),
        )
        return [_record(r) for r in rows]

    def directories(self, tx: Tx) -> set[str]:
        """Every ``ca_directory`` in the table, lower-cased."""
        return {str(r[0]).lower() for r in tx.all("SELECT ca_directory FROM ca_settings") if r[0]}

    def default_ids(self, tx: Tx) -> list[int]:
        """Ids of the rows marked default (exactly one when the table is healthy)."""
        rows = tx.all("SELECT id FROM ca_settings WHERE default2 = ? ORDER BY id", (DEFAULT_YES,))
        return [int(r[0]) for r in rows]

    def count_issued(self, tx: Tx, ca_id: int) -> int:
        """How many ``recipient_certificates`` rows reference the CA."""
        return int(
            tx.scalar("SELECT COUNT(*) FROM recipient_certificates WHERE ca_id = ?", (ca_id,)) or 0
        )

    def insert_ca(self, tx: Tx, row: NewCaRow) -> int:
        """Insert a row as the web page would, and return its id."""
        new_id = tx.scalar(
            "INSERT INTO ca_settings (validity, encryption, ca_commonname, organizationname, "
            "unitname, stateprovincename, countryname, applied, expires, default2, "
            "ca_directory, ca_djigzo_id, ca_djigzo_subject) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                row.validity,
                row.encryption,
                row.common_name,
                row.organization,
                row.unit,
                row.state,
                row.country,
                row.applied,
                row.expires.isoformat(),
                DEFAULT_YES if row.default else DEFAULT_NO,
                row.directory,
                row.djigzo_id,
                row.djigzo_subject,
            ),
        )
        return int(new_id)

    def make_default(self, tx: Tx, ca_id: int) -> None:
        """Make ``ca_id`` the only default.

        Two statements in the caller's transaction: the others are demoted first so the
        "at most one default" index never sees two, and readers see either the old or
        the new default, never none.
        """
        tx.execute(
            "UPDATE ca_settings SET default2 = ? WHERE default2 = ? AND id <> ?",
            (DEFAULT_NO, DEFAULT_YES, ca_id),
        )
        tx.execute("UPDATE ca_settings SET default2 = ? WHERE id = ?", (DEFAULT_YES, ca_id))

    def update_certificate_state(
        self, tx: Tx, ca_id: int, *, expires: date, djigzo_id: int | None
    ) -> None:
        """Record a renewed certificate's expiry and CipherMail id."""
        tx.execute(
            "UPDATE ca_settings SET expires = ?, ca_djigzo_id = ? WHERE id = ?",
            (expires.isoformat(), djigzo_id, ca_id),
        )

    def set_expires(self, tx: Tx, ca_id: int, expires: date) -> None:
        """Set the row's expiry (doctor repair)."""
        tx.execute("UPDATE ca_settings SET expires = ? WHERE id = ?", (expires.isoformat(), ca_id))

    def set_djigzo_id(self, tx: Tx, ca_id: int, djigzo_id: int | None) -> None:
        """Set the row's CipherMail id."""
        tx.execute("UPDATE ca_settings SET ca_djigzo_id = ? WHERE id = ?", (djigzo_id, ca_id))

    def delete_ca(self, tx: Tx, ca_id: int) -> int:
        """Delete the row; returns how many rows went (0 or 1)."""
        cursor = tx.execute("DELETE FROM ca_settings WHERE id = ?", (ca_id,))
        return int(getattr(cursor, "rowcount", 0) or 0)

    def insert_recipient_certificate(
        self, tx: Tx, ca_id: int, values: dict[str, Any] | None = None
    ) -> int:
        """Insert a ``recipient_certificates`` row (tests and the later minting feature)."""
        data = {"ca_id": ca_id, **(values or {})}
        columns = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        return int(
            tx.scalar(
                f"INSERT INTO recipient_certificates ({columns}) VALUES ({marks}) RETURNING id",
                tuple(data.values()),
            )
        )

    def recipient_certificate_names(self, tx: Tx, ca_id: int) -> list[str]:
        """File names of the certificates minted from the CA (``newcerts/``)."""
        rows = tx.all(
            "SELECT smime_certificate_name FROM recipient_certificates WHERE ca_id = ?", (ca_id,)
        )
        return [str(r[0]) for r in rows if r[0]]

    def ids(self, tx: Tx, ids: Iterable[int]) -> set[int]:
        """Which of the given ids exist."""
        wanted = list(ids)
        if not wanted:
            return set()
        marks = ", ".join("?" for _ in wanted)
        return {
            int(r[0]) for r in tx.all(f"SELECT id FROM ca_settings WHERE id IN ({marks})", wanted)
        }
