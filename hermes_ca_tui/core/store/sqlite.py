"""SQLite: the embedded default's engine (WAL, explicit ``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hermes_ca_tui.core.store.database import Connection, Cursor, Database, Tx

BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another process's transaction before giving up."""

_WAL_RETRY_S = 0.01

HERMES_SCHEMA = """
CREATE TABLE IF NOT EXISTS ca_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    validity TEXT,
    expires TEXT,
    encryption TEXT,
    algorithm TEXT,
    ca_commonname TEXT NOT NULL,
    ca_email TEXT,
    subca_commonname TEXT,
    subca_email TEXT,
    name TEXT,
    organizationname TEXT,
    unitname TEXT,
    stateprovincename TEXT,
    countryname TEXT,
    applied INTEGER,
    default2 INTEGER,
    ca_directory TEXT NOT NULL,
    ca_djigzo_id INTEGER,
    ca_djigzo_subject TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS ca_settings_cn_unique ON ca_settings (lower(ca_commonname));
CREATE UNIQUE INDEX IF NOT EXISTS ca_settings_dir_unique ON ca_settings (lower(ca_directory));
CREATE UNIQUE INDEX IF NOT EXISTS ca_settings_one_default ON ca_settings (default2)
    WHERE default2 = 1;
CREATE TABLE IF NOT EXISTS recipient_certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    smime_certificate_key TEXT,
    external_ca INTEGER,
    smime_certificate_request TEXT,
    smime_certificate_name TEXT,
    pfx_certificate_name TEXT,
    smime_certificate_password TEXT,
    smime_certificate_expiration TEXT,
    validity TEXT,
    encryption TEXT,
    algorithm TEXT,
    ca_id INTEGER,
    serial TEXT,
    external_ca_name TEXT,
    thumbprint TEXT,
    djigzo_certificate_id INTEGER,
    external INTEGER
);
CREATE INDEX IF NOT EXISTS recipient_certificates_ca ON recipient_certificates (ca_id);
"""

DJIGZO_SCHEMA = """
CREATE TABLE IF NOT EXISTS cm_certificates (
    cm_id INTEGER PRIMARY KEY AUTOINCREMENT,
    cm_not_before TEXT,
    cm_not_after TEXT,
    cm_issuer TEXT,
    cm_issuer_friendly TEXT,
    cm_serial TEXT,
    cm_subject_key_identifier TEXT,
    cm_subject TEXT,
    cm_subject_friendly TEXT,
    cm_certificate BLOB,
    cm_thumbprint TEXT,
    cm_cert_path BLOB,
    cm_cert_path_type TEXT,
    cm_creation_date TEXT,
    cm_date_path_updated TEXT,
    cm_key_alias TEXT,
    cm_store_name TEXT,
    UNIQUE (cm_store_name, cm_thumbprint)
);
CREATE INDEX IF NOT EXISTS certificates_creationdate_index ON cm_certificates (cm_creation_date);
CREATE INDEX IF NOT EXISTS certificates_thumbprint_index ON cm_certificates (cm_thumbprint);
CREATE TABLE IF NOT EXISTS cm_certificates_email (
    cm_certificates_id INTEGER NOT NULL REFERENCES cm_certificates (cm_id),
    cm_email TEXT,
    gl_id INTEGER PRIMARY KEY AUTOINCREMENT
);
CREATE TABLE IF NOT EXISTS cm_ctl (
    cm_id INTEGER PRIMARY KEY AUTOINCREMENT,
    cm_name TEXT,
    cm_thumbprint TEXT NOT NULL,
    UNIQUE (cm_name, cm_thumbprint)
);
CREATE TABLE IF NOT EXISTS cm_ctl_cm_name_values (
    cm_ctl INTEGER NOT NULL REFERENCES cm_ctl (cm_id),
    cm_value TEXT,
    cm_name TEXT NOT NULL,
    PRIMARY KEY (cm_ctl, cm_name)
);
"""


class SqliteDialect:
    """SQLite's dialect: ``?`` placeholders, ``BEGIN IMMEDIATE`` for writers."""

    name = "sqlite"

    def sql(self, statement: str) -> str:
        """SQLite takes ``?`` placeholders as written."""
        return statement

    def begin(self, cursor: Cursor, write: bool) -> None:
        """Writers take SQLite's write lock at once, so two never deadlock midway."""
        cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self, cursor: Cursor) -> None:
        """Commit."""
        cursor.execute("COMMIT")

    def rollback(self, cursor: Cursor) -> None:
        """Roll back."""
        cursor.execute("ROLLBACK")

    @contextlib.contextmanager
    def operation_lock(self, connection: Connection, key: int, timeout: float) -> Iterator[None]:
        """Nothing to do: on one host the operation file lock already serialises writers."""
        yield

    def is_unavailable(self, exc: BaseException) -> bool:
        """``database is locked`` past the busy timeout, unreadable files, and the like."""
        return isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.IntegrityError
        )

    def is_driver_error(self, exc: BaseException) -> bool:
        """The sqlite3 module's errors."""
        return isinstance(exc, sqlite3.Error)

    def table_exists(self, tx: Tx, table: str) -> bool:
        """A table of that name in the main database."""
        return bool(
            tx.scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            )
        )

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """``column IN`` the elements of one JSON array parameter (SQLite's ``json_each``).

        The planner still looks each value up in the column's index.
        """
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))


def connect_sqlite(path: Path, schema: str | None) -> sqlite3.Connection:
    """Open (and, with ``schema``, initialise) an SQLite database in WAL mode.

    Args:
        path: The database file.
        schema: DDL to run idempotently, or ``None`` to use the file as it is.
    """
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
    )
    _enable_wal(connection)
    # FULL: a commit is on disk when it returns, so a crash right after it is recoverable.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    if schema:
        _apply_schema(connection, schema)
    return connection


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so), waiting for other processes doing the same.

    Switching a new file to WAL needs it to itself, and SQLite answers "database is
    locked" at once, without waiting for its busy timeout, while another connection holds
    it: several processes starting at once on a new data folder. Retry until the timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(_WAL_RETRY_S)


def _apply_schema(connection: sqlite3.Connection, schema: str) -> None:
    """Run the DDL statement by statement, tolerating data a unique index cannot take.

    When someone dropped one of our unique indexes and then planted rows that break it
    (two defaults, a duplicate name), re-creating the index fails. Failing the whole
    connection would lock every session out, doctor included, which is what reports and
    repairs that drift; so the index is skipped and comes back once the data is fixed.
    """
    # One transaction: a new data folder pays one commit (one fsync), not one per statement.
    connection.execute("BEGIN IMMEDIATE")
    statement = ""
    for line in schema.splitlines(keepends=True):
        statement += line
        if not sqlite3.complete_statement(statement):
            continue
        try:
            connection.execute(statement)
        except sqlite3.IntegrityError:
            # A failed statement undoes only itself; the transaction goes on.
            if not statement.lstrip().upper().startswith("CREATE UNIQUE INDEX"):
                connection.execute("ROLLBACK")
                raise
        statement = ""
    connection.execute("COMMIT")


def sqlite_database(label: str, path: Path, schema: str | None) -> Database:
    """A :class:`Database` on an SQLite file."""
    return Database(label, lambda: connect_sqlite(path, schema), SqliteDialect())
