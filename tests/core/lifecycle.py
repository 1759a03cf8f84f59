"""Helpers for the lifecycle tests: reading the three stores, snapshots, minting with OpenSSL.

Everything here reads the stores the way an outsider would: ``sqlite3`` on the database
files, ``os.stat`` and bytes on disk, and the real OpenSSL CLI (argv lists, no shell).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.session import Profile
from tests.support import openssl, rsa_key

SKIP_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")


def db_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL."""
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite://"))


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a read-only statement as dicts, on a fresh connection."""
    with closing(sqlite3.connect(db_path(url))) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params).fetchall()]


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run one write statement and commit (for setting up drift or issued rows)."""
    with closing(sqlite3.connect(db_path(url), timeout=30)) as conn:
        conn.execute(sql, params)
        conn.commit()


def ca_rows(profile: Profile) -> list[dict[str, Any]]:
    """Every ``ca_settings`` row, by id."""
    return query(profile.hermes_url, "SELECT * FROM ca_settings ORDER BY id")


def ca_row(profile: Profile, ca_id: int) -> dict[str, Any]:
    """One ``ca_settings`` row."""
    rows = query(profile.hermes_url, "SELECT * FROM ca_settings WHERE id = ?", (ca_id,))
    assert len(rows) == 1, rows
    return rows[0]


def default_ids(profile: Profile) -> list[int]:
    """Ids whose ``default2`` is 1."""
    rows = query(profile.hermes_url, "SELECT id FROM ca_settings WHERE default2 = 1 ORDER BY id")
    return [int(r["id"]) for r in rows]


def cm_certificates(profile: Profile) -> list[dict[str, Any]]:
    """Every ``cm_certificates`` row, by id."""
    return query(profile.djigzo_url, "SELECT * FROM cm_certificates ORDER BY cm_id")


def cm_ctl(profile: Profile) -> list[dict[str, Any]]:
    """Every ``cm_ctl`` row, by id."""
    return query(profile.djigzo_url, "SELECT * FROM cm_ctl ORDER BY cm_id")


def ctl_values(profile: Profile, ctl_id: int) -> dict[str, str]:
    """The name-values of one CTL entry."""
    rows = query(
        profile.djigzo_url,
        "SELECT cm_name, cm_value FROM cm_ctl_cm_name_values WHERE cm_ctl = ?",
        (ctl_id,),
    )
    return {str(r["cm_name"]): str(r["cm_value"]) for r in rows}


def all_ctl_values(profile: Profile) -> list[dict[str, Any]]:
    """Every ``cm_ctl_cm_name_values`` row."""
    return query(profile.djigzo_url, "SELECT * FROM cm_ctl_cm_name_values ORDER BY cm_ctl, cm_name")


def der_of(pem_file: Path) -> bytes:
    """The DER of a PEM certificate file, converted by the OpenSSL CLI."""
    return openssl("x509", "-in", str(pem_file), "-outform", "DER").stdout


def thumbprint_of(pem_file: Path) -> str:
    """CipherMail's thumbprint (SHA-512 of the DER, upper-case hex), computed independently."""
    return hashlib.sha512(der_of(pem_file)).hexdigest().upper()


def x509_text(pem_file: Path) -> str:
    """``openssl x509 -noout -text``."""
    return openssl("x509", "-in", str(pem_file), "-noout", "-text").stdout.decode()


def x509_field(pem_file: Path, option: str) -> str:
    """One ``openssl x509 -noout -<option>`` value, without its ``name=`` prefix."""
    out = openssl("x509", "-in", str(pem_file), "-noout", option).stdout.decode().strip()
    return out.partition("=")[2].strip()


def openssl_date(text: str) -> str:
    """``Dec  2 12:00:00 2031 GMT`` as ``2031-12-02``."""
    return datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y %Z").date().isoformat()


def verify(cafile: Path, cert: Path, *extra: str) -> tuple[bool, str]:
    """``openssl verify -CAfile cafile cert``: whether it said OK, and its output."""
    result = openssl("verify", *extra, "-CAfile", str(cafile), str(cert), check=False)
    output = (result.stdout + result.stderr).decode()
    return result.returncode == 0 and f"{cert}: OK" in output, output


def mode(path: Path) -> int:
    """Permission bits of a path."""
    return stat.S_IMODE(path.lstat().st_mode)


@dataclass
class Snapshot:
    """Everything the three stores hold: files (mode, content hash), and both databases."""

    files: dict[str, tuple[int, str]]
    hermes: dict[str, list[tuple[Any, ...]]]
    djigzo: dict[str, list[tuple[Any, ...]]]


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    path = db_path(url)
    if not path.exists():
        return {}
    with closing(sqlite3.connect(path)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        dump = {
            t: sorted(
                (tuple(row) for row in conn.execute(f'SELECT * FROM "{t}"')),
                key=repr,
            )
            for t in tables
        }
    # A database created (empty) by a first read holds nothing: same as no file at all.
    return {t: rows for t, rows in dump.items() if rows}


def snapshot(profile: Profile, *, skip: tuple[str, ...] = ()) -> Snapshot:
    """Capture the data folder (modes and content) and both databases' rows.

    Args:
        profile: The embedded profile.
        skip: Relative paths left out (for example ``audit.jsonl`` when a refusal is
            supposed to be audited).
    """
    assert profile.data_dir is not None
    files: dict[str, tuple[int, str]] = {}
    for current, dirs, names in os.walk(profile.data_dir):
        for name in [*dirs, *names]:
            path = Path(current) / name
            rel = str(path.relative_to(profile.data_dir))
            if rel in skip or name.endswith(SKIP_SUFFIXES):
                continue
            if path.is_dir():
                files[rel + "/"] = (mode(path), "dir")
            else:
                files[rel] = (mode(path), hashlib.sha256(path.read_bytes()).hexdigest())
    return Snapshot(files, _dump(profile.hermes_url), _dump(profile.djigzo_url))


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    """Fail with a readable difference when a snapshot changed."""
    added = sorted(set(after.files) - set(before.files))
    removed = sorted(set(before.files) - set(after.files))
    changed = sorted(
        k for k in before.files if k in after.files and before.files[k] != after.files[k]
    )
    assert (added, removed, changed) == ([], [], []), "data folder changed"
    assert after.hermes == before.hermes, "hermes database changed"
    assert after.djigzo == before.djigzo, "djigzo database changed"


def audit_records(profile: Profile) -> list[dict[str, Any]]:
    """Every audit record, oldest first."""
    if not profile.audit_log.exists():
        return []
    return [json.loads(line) for line in profile.audit_log.read_text().splitlines() if line]


def write_leaf_key(folder: Path, index: int = 50) -> Path:
    """A 2048-bit key for CSRs (unencrypted PEM), as a file."""
    path = folder / f"leaf{index}.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            rsa_key(2048, index).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


def make_csr(folder: Path, email: str) -> Path:
    """A CSR as the web UI makes it: ``openssl req -new -subj /CN=<mail>/emailAddress=<mail>``."""
    key = write_leaf_key(folder)
    csr = folder / f"{email.replace('@', '_at_')}.csr"
    openssl(
        "req",
        "-new",
        "-key",
        str(key),
        "-subj",
        f"/CN={email}/emailAddress={email}",
        "-out",
        str(csr),
    )
    return csr


def mint(root: Path, folder: Path, email: str, *extra: str) -> Path:
    """Mint a leaf from a CA tree with ``openssl ca -config <root>/openssl.cnf -batch``.

    Args:
        root: The tree's ``root_ca`` folder.
        folder: Where the CSR and the leaf go (outside the tree).
        email: The recipient address.
        extra: More ``openssl ca`` arguments (``-md sha512 -days 365``, ``-extfile``...).
    """
    csr = make_csr(folder, email)
    leaf = folder / f"{email.replace('@', '_at_')}-{len(list(folder.glob('*.pem')))}.pem"
    result = openssl(
        "ca",
        "-config",
        str(root / "openssl.cnf"),
        "-batch",
        "-in",
        str(csr),
        "-out",
        str(leaf),
        *extra,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return leaf


def index_lines(root: Path) -> list[list[str]]:
    """``index.txt`` split into tab-separated fields, one list per line."""
    text = (root / "index.txt").read_text()
    return [line.split("\t") for line in text.splitlines() if line]
