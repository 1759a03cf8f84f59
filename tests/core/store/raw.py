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
from tests.core.stores import ARCHIVE_DIR, STATE_DIR, Row, StoreState, _files

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
    raw_rows = query(
        profile.hermes_url,
        "SELECT id, ca_commonname, ca_directory, default2, expires, ca_djigzo_id, encryption "
        "FROM ca_settings ORDER BY id",
    )
    rows = {
        str(r[1]).lower(): Row(
            int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), r[5], str(r[6])
        )
        for r in raw_rows
    }
    cm: dict[str, list[tuple[int, str]]] = {}
    for cm_id, tp, store in query(
        profile.djigzo_url,
        "SELECT cm_id, cm_thumbprint, cm_store_name FROM cm_certificates ORDER BY cm_id",
    ):
        cm.setdefault(str(tp), []).append((int(cm_id), str(store)))
    ctl: dict[str, dict[str, str]] = {}
    for tp, name, value in query(
        profile.djigzo_url,
        "SELECT t.cm_thumbprint, v.cm_name, v.cm_value FROM cm_ctl t "
        "LEFT JOIN cm_ctl_cm_name_values v ON v.cm_ctl = t.cm_id WHERE t.cm_name = 'global'",
    ):
        entry = ctl.setdefault(str(tp), {})
        if name is not None:
            entry[str(name)] = str(value)
    ca_root = profile.ca_root
    trees = (
        {
            p.name: _files(p)
            for p in sorted(ca_root.iterdir())
            if p.is_dir() and p.name not in (STATE_DIR, ARCHIVE_DIR)
        }
        if ca_root.is_dir()
        else {}
    )
    archive_root = ca_root / ARCHIVE_DIR
    archives = (
        {p.name: _files(p) for p in sorted(archive_root.iterdir())} if archive_root.is_dir() else {}
    )
    journal_dir = ca_root / STATE_DIR / "journal"
    staging_dir = ca_root / STATE_DIR / "staging"
    return StoreState(
        rows=rows,
        row_names=[str(r[1]) for r in raw_rows],
        trees=trees,
        archives=archives,
        cm=cm,
        ctl=ctl,
        journal=sorted(p.name for p in journal_dir.iterdir()) if journal_dir.is_dir() else [],
        staging=(
            sorted(str(p.relative_to(staging_dir)) for p in staging_dir.rglob("*"))
            if staging_dir.is_dir()
            else []
        ),
        temp_files=sorted(str(p) for p in ca_root.rglob("*.tmp")) if ca_root.is_dir() else [],
    )
