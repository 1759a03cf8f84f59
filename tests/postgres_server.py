"""A throwaway PostgreSQL cluster for the tests (test-infrastructure §2, Appendix B).

Debian's server binaries refuse to run as root, so as root they run as the ``postgres``
OS user. The cluster listens on a unix socket only, in a fresh folder under /tmp, with
fsync off. ``PGTEST_DSN`` points the tests at an existing server instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

DSN_ENV = "PGTEST_DSN"


def server_binaries() -> str | None:
    """The newest installed ``/usr/lib/postgresql/<v>/bin``, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return found[-1] if found else None


def _as_postgres(argv: list[str]) -> None:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster; yield a DSN for its ``postgres`` database; stop and remove it."""
    if os.environ.get(DSN_ENV):
        yield os.environ[DSN_ENV]
        return
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries: apt-get install postgresql")
    folder = tempfile.mkdtemp(prefix="pgtest-", dir="/tmp")
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    _as_postgres(
        [
            f"{binaries}/initdb",
            "-D",
            f"{folder}/data",
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    options = (
        f"-c listen_addresses='' -k {folder} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    _as_postgres(
        [
            f"{binaries}/pg_ctl",
            "-D",
            f"{folder}/data",
            "-l",
            f"{folder}/log",
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        ]
    )
    try:
        yield f"host={folder} user=postgres dbname=postgres"
    finally:
        _as_postgres(
            [f"{binaries}/pg_ctl", "-D", f"{folder}/data", "-m", "immediate", "-w", "stop"]
        )
        shutil.rmtree(folder, ignore_errors=True)


def with_dbname(dsn: str, name: str) -> str:
    """The DSN for another database on the same server."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})


def create_database(server_dsn: str, prefix: str = "t") -> str:
    """Create an empty database; returns its DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return with_dbname(server_dsn, name)


def drop_database(server_dsn: str, dsn: str) -> None:
    """Drop a database created by :func:`create_database` (connections are forced out)."""
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(server_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
