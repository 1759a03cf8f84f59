"""PostgreSQL through psycopg 3: the appliance backends' engine.

The repositories' SQL runs unchanged; this dialect turns ``?`` into ``%s``, takes a
session-level advisory lock for a whole operation (the appliance's tables have no unique
constraints, so two operators are kept apart by that lock, not by the schema), and gives
every connection a connect timeout and a statement timeout, so that a hung server never
blocks a worker forever.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.store.database import Connection, Cursor, Database, Tx

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for the server to answer a new connection."""

STATEMENT_TIMEOUT_MS = 30_000
"""Longest any one statement may run."""

_POLL_S = 0.05

HERMES_SCHEMA = """
CREATE TABLE IF NOT EXISTS ca_settings (
    id SERIAL PRIMARY KEY,
    validity VARCHAR(255),
    expires DATE,
    encryption VARCHAR(255),
    algorithm VARCHAR(255),
    ca_commonname VARCHAR(255) NOT NULL,
    ca_email VARCHAR(255),
    subca_commonname VARCHAR(255),
    subca_email VARCHAR(255),
    name VARCHAR(255),
    organizationname VARCHAR(255),
    unitname VARCHAR(255),
    stateprovincename VARCHAR(255),
    countryname VARCHAR(255),
    applied INTEGER,
    default2 INTEGER,
    ca_directory VARCHAR(255) NOT NULL,
    ca_djigzo_id INTEGER,
    ca_djigzo_subject VARCHAR(255)
);
CREATE UNIQUE INDEX IF NOT EXISTS ca_settings_cn_unique ON ca_settings (lower(ca_commonname));
CREATE UNIQUE INDEX IF NOT EXISTS ca_settings_dir_unique ON ca_settings (lower(ca_directory));
CREATE UNIQUE INDEX IF NOT EXISTS ca_settings_one_default ON ca_settings (default2)
    WHERE default2 = 1;
CREATE TABLE IF NOT EXISTS recipient_certificates (
    id SERIAL PRIMARY KEY,
    user_id INTEGER,
    smime_certificate_key VARCHAR(255),
    external_ca INTEGER,
    smime_certificate_request VARCHAR(255),
    smime_certificate_name VARCHAR(255),
    pfx_certificate_name VARCHAR(255),
    smime_certificate_password VARCHAR(255),
    smime_certificate_expiration DATE,
    validity VARCHAR(255),
    encryption VARCHAR(255),
    algorithm VARCHAR(255),
    ca_id INTEGER,
    serial VARCHAR(255),
    external_ca_name VARCHAR(255),
    thumbprint VARCHAR(255),
    djigzo_certificate_id INTEGER,
    external INTEGER
);
CREATE INDEX IF NOT EXISTS recipient_certificates_ca ON recipient_certificates (ca_id);
"""

DJIGZO_SCHEMA = """
CREATE TABLE IF NOT EXISTS cm_certificates (
    cm_id BIGSERIAL PRIMARY KEY,
    cm_not_before TIMESTAMP,
    cm_not_after TIMESTAMP,
    cm_issuer TEXT,
    cm_issuer_friendly TEXT,
    cm_serial TEXT,
    cm_subject_key_identifier TEXT,
    cm_subject TEXT,
    cm_subject_friendly TEXT,
    cm_certificate BYTEA,
    cm_thumbprint VARCHAR(255),
    cm_cert_path BYTEA,
    cm_cert_path_type VARCHAR(255),
    cm_creation_date TIMESTAMP,
    cm_date_path_updated TIMESTAMP,
    cm_key_alias TEXT,
    cm_store_name VARCHAR(255),
    UNIQUE (cm_store_name, cm_thumbprint)
);
CREATE INDEX IF NOT EXISTS certificates_creationdate_index ON cm_certificates (cm_creation_date);
CREATE INDEX IF NOT EXISTS certificates_thumbprint_index ON cm_certificates (cm_thumbprint);
CREATE TABLE IF NOT EXISTS cm_certificates_email (
    cm_certificates_id BIGINT NOT NULL REFERENCES cm_certificates (cm_id),
    cm_email TEXT,
    gl_id BIGSERIAL PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS cm_ctl (
    cm_id BIGSERIAL PRIMARY KEY,
    cm_name VARCHAR(255),
    cm_thumbprint VARCHAR(255) NOT NULL,
    UNIQUE (cm_name, cm_thumbprint)
);
CREATE TABLE IF NOT EXISTS cm_ctl_cm_name_values (
    cm_ctl BIGINT NOT NULL REFERENCES cm_ctl (cm_id),
    cm_value TEXT,
    cm_name VARCHAR(255) NOT NULL,
    PRIMARY KEY (cm_ctl, cm_name)
);
"""


class PostgresDialect:
    """PostgreSQL's dialect: ``%s`` placeholders, advisory locks, ``= ANY`` lists."""

    name = "postgresql"

    def sql(self, statement: str) -> str:
        """Psycopg takes ``%s``; the repositories never put ``?`` or ``%`` in literals."""
        return statement.replace("?", "%s")

    def begin(self, cursor: Cursor, write: bool) -> None:
        """Start a transaction (READ COMMITTED; writers are serialised by the lock)."""
        cursor.execute("BEGIN" if write else "BEGIN READ ONLY")

    def commit(self, cursor: Cursor) -> None:
        """Commit."""
        cursor.execute("COMMIT")

    def rollback(self, cursor: Cursor) -> None:
        """Roll back."""
        cursor.execute("ROLLBACK")

    @contextlib.contextmanager
    def operation_lock(self, connection: Connection, key: int, timeout: float) -> Iterator[None]:
        """Hold ``pg_advisory_lock(key)`` for the operation, on this session.

        The lock lives as long as the session, so a crashed process releases it; several
        hosts sharing the database are kept apart as surely as processes on one host.
        """
        cursor = connection.cursor()
        deadline = time.monotonic() + timeout
        try:
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (key,))
                row = cursor.fetchone()
                if row and row[0]:
                    break
                if time.monotonic() >= deadline:
                    raise CaError(Code.LOCK_TIMEOUT, path=f"PostgreSQL advisory lock {key}")
                time.sleep(_POLL_S)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    cursor.execute("SELECT pg_advisory_unlock(%s)", (key,))
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def is_unavailable(self, exc: BaseException) -> bool:
        """Connection failures, timeouts, a server going away."""
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)

    def is_driver_error(self, exc: BaseException) -> bool:
        """Psycopg's errors."""
        return isinstance(exc, psycopg.Error)

    def table_exists(self, tx: Tx, table: str) -> bool:
        """Looked up on the search path, as the repositories' statements name tables."""
        return bool(tx.scalar("SELECT to_regclass(?) IS NOT NULL", (table,)))

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """``column = ANY(?)`` with one array parameter, whatever the number of values."""
        return f"{column} = ANY(?)", list(values)


KEEPALIVE = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
}
"""TCP keepalives: a server host that vanished mid-statement is noticed in about 25 s."""


def connection_string(dsn: str) -> str:
    """The DSN with our timeouts added where it does not set its own.

    ``connect_timeout`` bounds connecting, ``statement_timeout`` (server side) every
    statement, keepalives a dead peer on TCP (ignored on a unix socket). What the DSN
    already says wins; its own ``options`` are kept.
    """
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    extra: dict[str, Any] = {"connect_timeout": str(CONNECT_TIMEOUT_S), **KEEPALIVE}
    extra = {key: value for key, value in extra.items() if key not in info}
    options = str(info.get("options") or "")
    if "statement_timeout" not in options:
        extra["options"] = f"{options} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()
    return psycopg.conninfo.make_conninfo(dsn, **extra)


def connect_postgres(dsn: str, schema: str | None) -> psycopg.Connection[Any]:
    """Open an autocommit connection with timeouts (and, with ``schema``, create tables).

    Transactions are explicit (``BEGIN``/``COMMIT`` from the dialect).
    """
    connection = psycopg.connect(connection_string(dsn), autocommit=True)
    if schema:
        with connection.transaction():
            for statement in (s.strip() for s in schema.split(";")):
                if statement:
                    connection.execute(statement)
    return connection


def postgres_database(label: str, dsn: str, schema: str | None) -> Database:
    """A :class:`Database` on a PostgreSQL server."""
    return Database(label, lambda: connect_postgres(dsn, schema), PostgresDialect())


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced, for messages and ``config check``."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    if "password" in info:
        info["password"] = "***"  # noqa: S105 - a mask, not a password
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})


def check_dsn(dsn: str) -> str | None:
    """Why a DSN cannot be used, or ``None`` when it parses."""
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        return str(exc).splitlines()[0]
    return None
