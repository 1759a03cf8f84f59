"""Direct access to a profile's databases, outside the core, for SQLite and PostgreSQL alike.

The contract and appliance tests plant drift and judge results through this module: plain
``sqlite3`` or ``psycopg`` connections, one per call, never the core's own
:class:`~hermes_ca_tui.core.store.database.Database`. Statements use ``?`` placeholders
and are adapted to psycopg's ``%s`` here.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg

from hermes_ca_tui.core.session import Profile
from tests.core.stores import StoreState, read_state

Params = tuple[Any, ...]


def is_sqlite(url: str) -> bool:
    """Whether a profile URL names an SQLite file."""
    return url.startswith("sqlite:///")


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://"))


def query(url: str, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
    """Every row of one statement, on a fresh connection."""
    if is_sqlite(url):
        with closing(sqlite3.connect(_sqlite_path(url), timeout=30)) as db:
            return [tuple(r) for r in db.execute(sql, params).fetchall()]
    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), params).fetchall()]


def execute(url: str, sql: str, params: Params = ()) -> None:
    """Run one write statement and commit it."""
    if is_sqlite(url):
        with closing(sqlite3.connect(_sqlite_path(url), timeout=30)) as db:
            db.execute(sql, params)
            db.commit()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.replace("?", "%s"), params)


def scalar(url: str, sql: str, params: Params = ()) -> Any:
    """The first column of the first row."""
    rows = query(url, sql, params)
    return rows[0][0] if rows else None


def tables(url: str) -> list[str]:
    """The user tables of a database."""
    if is_sqlite(url):
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY table_name"
        )
    return [str(r[0]) for r in query(url, sql)]


def unique_indexes(url: str, table: str) -> list[str]:
    """Names of the unique indexes on a table, other than its primary key."""
    if is_sqlite(url):
        rows = query(url, f"PRAGMA index_list('{table}')")
        return sorted(str(r[1]) for r in rows if r[2] and r[3] != "pk")
    rows = query(
        url,
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = ? AND x.indisunique "
        "AND NOT x.indisprimary ORDER BY i.relname",
        (table,),
    )
    return [str(r[0]) for r in rows]


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every non-empty table's rows, sorted: equal dumps mean nothing changed."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables(url):
        rows = sorted(query(url, f'SELECT * FROM "{table}"'), key=repr)
        if rows:
            out[table] = rows
    return out


def snapshot(profile: Profile) -> StoreState:
    """The three stores of a profile as :class:`tests.core.stores.StoreState`."""
    return read_state(
        lambda sql: query(profile.hermes_url, sql),
        lambda sql: query(profile.djigzo_url, sql),
        profile.ca_root,
        profile.ca_root,
    )
