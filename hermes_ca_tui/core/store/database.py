"""A database connection with counted statements and explicit transactions.

The repositories write SQL once with ``?`` placeholders. A :class:`Dialect` adapts it to
an engine: placeholder style, how a write transaction begins, how an operation-wide lock
is taken, which exceptions mean "unreachable" and which mean "constraint violated".
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from hermes_ca_tui.core.errors import CaError, Code

Params = Sequence[Any]


class Cursor(Protocol):
    """The DB-API cursor subset the repositories use."""

    def execute(self, sql: str, params: Params = ...) -> Any:
        """Run one statement."""

    def fetchall(self) -> list[Any]:
        """All remaining rows."""

    def fetchone(self) -> Any:
        """The next row, or ``None``."""

    def close(self) -> None:
        """Release the cursor."""


class Connection(Protocol):
    """The DB-API connection subset the repositories use."""

    def cursor(self) -> Any:
        """A new cursor."""

    def close(self) -> None:
        """Close the connection."""


class Dialect(Protocol):
    """What differs between database engines."""

    name: str

    def sql(self, statement: str) -> str:
        """Rewrite a ``?``-placeholder statement for this engine."""

    def begin(self, cursor: Cursor, write: bool) -> None:
        """Start a transaction (a writer takes the engine's write lock early where useful)."""

    def commit(self, cursor: Cursor) -> None:
        """Commit the open transaction."""

    def rollback(self, cursor: Cursor) -> None:
        """Roll back the open transaction."""

    def operation_lock(
        self, connection: Connection, key: int, timeout: float
    ) -> contextlib.AbstractContextManager[None]:
        """Hold a database-wide lock across a whole operation (several transactions).

        Raises LOCK_TIMEOUT when another session holds it past ``timeout`` seconds.
        """

    def is_unavailable(self, exc: BaseException) -> bool:
        """Whether the exception means the database cannot be reached or used."""

    def is_driver_error(self, exc: BaseException) -> bool:
        """Whether the exception comes from the database driver (any of its errors)."""

    def table_exists(self, tx: Tx, table: str) -> bool:
        """Whether the database holds a table of this name."""

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """A condition "``column`` is one of ``values``" that takes ONE parameter.

        Returns the SQL fragment (with one ``?``) and that parameter, so that a lookup of
        any number of values is one statement with one parameter: no chunking, no limit
        on the number of placeholders, the same statement for 10 values and for 1,000.
        """


class Tx:
    """One open transaction; statements go through :meth:`execute`."""

    def __init__(self, database: Database, cursor: Cursor) -> None:
        self._database = database
        self._cursor = cursor

    def execute(self, statement: str, params: Params = ()) -> Cursor:
        """Run a statement and return the cursor positioned on its result."""
        self._database.count_statement()
        self._cursor.execute(self._database.dialect.sql(statement), tuple(params))
        return self._cursor

    def all(self, statement: str, params: Params = ()) -> list[Any]:
        """Run a query and return every row."""
        return list(self.execute(statement, params).fetchall())

    def one(self, statement: str, params: Params = ()) -> Any:
        """Run a query and return its first row, or ``None``."""
        return self.execute(statement, params).fetchone()

    def scalar(self, statement: str, params: Params = ()) -> Any:
        """Run a query and return the first column of its first row, or ``None``."""
        row = self.one(statement, params)
        return None if row is None else row[0]

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """The dialect's one-parameter "``column`` is one of ``values``" (see :class:`Dialect`)."""
        return self._database.dialect.one_of(column, values)


class Database:
    """A lazily opened connection to one database, safe to share between threads.

    Args:
        label: "hermes" or "djigzo", used in messages.
        connect: Opens a new DB-API connection (autocommit; transactions are explicit).
        dialect: The engine's dialect.
    """

    def __init__(self, label: str, connect: Callable[[], Connection], dialect: Dialect) -> None:
        self.label = label
        self.dialect = dialect
        self._connect = connect
        self._connection: Connection | None = None
        self._lock = threading.RLock()
        self.statements = 0
        """Statements run so far; the list benchmark compares it across table sizes."""

    def count_statement(self) -> None:
        """Count one statement (called by :class:`Tx`)."""
        self.statements += 1

    def _open(self) -> Connection:
        if self._connection is None:
            try:
                self._connection = self._connect()
            except Exception as exc:
                raise self._translate(exc) from exc
        return self._connection

    def _translate(self, exc: BaseException) -> CaError:
        if isinstance(exc, CaError):
            return exc
        if self.dialect.is_unavailable(exc):
            return CaError(Code.DATABASE_UNAVAILABLE, database=self.label, reason=_first_line(exc))
        return CaError(Code.INTERNAL, reason=f"{self.label} database: {_first_line(exc)}")

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        """Run the block in one transaction: committed on success, rolled back on error.

        Args:
            write: ``False`` for a read-only snapshot, which does not wait for writers.
        """
        with self._lock:
            connection = self._open()
            cursor = connection.cursor()
            try:
                self.dialect.begin(cursor, write)
                self.count_statement()
                try:
                    yield Tx(self, cursor)
                except BaseException:
                    with contextlib.suppress(Exception):
                        self.dialect.rollback(cursor)
                    raise
                self.dialect.commit(cursor)
            except Exception as exc:
                # Only the driver's errors are this database's to word; anything else
                # raised inside the block (a file error, a CaError) is the caller's.
                if not self.dialect.is_driver_error(exc):
                    raise
                if self.dialect.is_unavailable(exc):
                    self._drop()
                raise self._translate(exc) from exc
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()

    @contextlib.contextmanager
    def operation_lock(self, key: int, timeout: float = 60.0) -> Iterator[None]:
        """Hold the engine's operation-wide lock (advisory lock, or nothing) for a block."""
        with self._lock:
            connection = self._open()
            try:
                with self.dialect.operation_lock(connection, key, timeout):
                    yield
            except CaError:
                raise
            except Exception as exc:
                if self.dialect.is_unavailable(exc):
                    self._drop()
                    raise self._translate(exc) from exc
                raise

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Close the connection, if open."""
        with self._lock:
            self._drop()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
