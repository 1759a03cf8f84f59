"""Read-only snapshots of a data folder's three stores, for the crash and concurrency tests.

Everything here reads the SQLite files and the folders directly (never through the core),
so that the tests judge the core by what is really on disk.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

STATE_DIR = ".hermes-ca-tui"
ARCHIVE_DIR = ".archive"


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    directory: str
    default2: int
    expires: str
    djigzo_id: int | None
    encryption: str


@dataclass
class StoreState:
    """A read-only snapshot of a data folder: rows, trees, trust, bookkeeping."""

    rows: dict[str, Row]
    row_names: list[str]
    trees: dict[str, dict[str, bytes]]
    archives: dict[str, dict[str, bytes]]
    cm: dict[str, list[tuple[int, str]]]
    ctl: dict[str, dict[str, str]]
    journal: list[str]
    staging: list[str]
    temp_files: list[str]

    def trust_view(self) -> dict[str, list[str]]:
        """Thumbprint -> stores, without CipherMail's row ids."""
        return {tp: sorted(store for _, store in rows) for tp, rows in self.cm.items()}

    def trusted(self, tp: str) -> bool:
        """Whether the certificate is a whitelisted root (AF §2.5)."""
        in_roots = any(store == "roots" for _, store in self.cm.get(tp, []))
        return in_roots and self.ctl.get(tp) == {"status": "whitelisted", "allowExpired": "false"}

    def absent_from_trust(self, tp: str) -> bool:
        """No certificate row and no trust-list entry for the certificate."""
        return tp not in self.cm and tp not in self.ctl

    def root_ids(self, tp: str) -> set[int]:
        return {cm_id for cm_id, store in self.cm.get(tp, []) if store == "roots"}

    def defaults(self) -> list[str]:
        return sorted(r.name for r in self.rows.values() if r.default2 == 1)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


Query = Callable[[str], list[Any]]
"""Runs one SELECT in one database and returns its rows."""


def read_state(hermes: Query, djigzo: Query, ca_root: Path, temp_root: Path) -> StoreState:
    """The three stores and the bookkeeping folders, whatever engine holds the tables.

    Args:
        hermes: Runs a query in the hermes database.
        djigzo: Runs a query in the djigzo database.
        ca_root: The CA root folder.
        temp_root: Where leftover ``*.tmp`` files are looked for.
    """
    raw_rows = hermes(
        "SELECT id, ca_commonname, ca_directory, default2, expires, ca_djigzo_id, "
        "encryption FROM ca_settings ORDER BY id"
    )
    rows = {
        str(r[1]).lower(): Row(
            int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), r[5], str(r[6])
        )
        for r in raw_rows
    }
    cm: dict[str, list[tuple[int, str]]] = {}
    for cm_id, tp, store in djigzo(
        "SELECT cm_id, cm_thumbprint, cm_store_name FROM cm_certificates ORDER BY cm_id"
    ):
        cm.setdefault(str(tp), []).append((int(cm_id), str(store)))
    ctl: dict[str, dict[str, str]] = {}
    for tp, name, value in djigzo(
        "SELECT t.cm_thumbprint, v.cm_name, v.cm_value FROM cm_ctl t "
        "LEFT JOIN cm_ctl_cm_name_values v ON v.cm_ctl = t.cm_id WHERE t.cm_name = 'global'"
    ):
        entry = ctl.setdefault(str(tp), {})
        if name is not None:
            entry[str(name)] = str(value)
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
        temp_files=sorted(str(p) for p in temp_root.rglob("*.tmp")) if temp_root.is_dir() else [],
    )


def snapshot(data_dir: Path) -> StoreState:
    """Read the three stores and the bookkeeping folders of a data folder."""
    with (
        closing(_read_only(data_dir / "hermes.sqlite3")) as hermes,
        closing(_read_only(data_dir / "djigzo.sqlite3")) as djigzo,
    ):
        return read_state(
            lambda sql: hermes.execute(sql).fetchall(),
            lambda sql: djigzo.execute(sql).fetchall(),
            data_dir / "CA",
            data_dir,
        )


CERT = "root_ca/certs/cacert.pem"
KEY = "root_ca/private/cakey.pem"
CHAIN = "root_ca/cachain.pem"


def thumbprint_of(pem: bytes) -> str:
    """CipherMail's thumbprint (SHA-512 of the DER, upper-case hex), computed independently."""
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha512(der).hexdigest().upper()


def not_after_of(pem: bytes) -> str:
    return x509.load_pem_x509_certificate(pem).not_valid_after_utc.date().isoformat()


def key_matches_cert(key_pem: bytes, cert_pem: bytes) -> bool:
    key = serialization.load_pem_private_key(key_pem, password=None)
    cert = x509.load_pem_x509_certificate(cert_pem)
    return key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]


def assert_consistent(state: StoreState) -> None:
    """Every row has its tree, its key and a trust entry it points at; no tree lacks a row."""
    assert len(state.rows) == len(state.row_names), f"duplicate names: {state.row_names}"
    directories = [r.directory.lower() for r in state.rows.values()]
    assert len(set(directories)) == len(directories), f"duplicate folders: {directories}"
    assert sorted(r.directory for r in state.rows.values()) == sorted(state.trees)
    for row in state.rows.values():
        files = state.trees[row.directory]
        assert KEY in files, f"{row.name}: key missing"
        assert key_matches_cert(files[KEY], files[CERT]), f"{row.name}: key does not match"
        tp = thumbprint_of(files[CERT])
        assert state.trusted(tp), f"{row.name}: not trusted"
        assert row.djigzo_id in state.root_ids(tp), f"{row.name}: ca_djigzo_id is stale"
        assert row.expires == not_after_of(files[CERT]), f"{row.name}: expires differs"
    if state.rows:
        assert len(state.defaults()) == 1


def audit_records(data_dir: Path) -> list[dict[str, Any]]:
    """Every record of the data folder's audit log, oldest first."""
    path = data_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def assert_audit_chain(records: list[dict[str, Any]]) -> None:
    """Check the hash chain independently: seq, prev and hash of every record."""
    prev = "0" * 64
    for number, record in enumerate(records, start=1):
        body = {k: v for k, v in record.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert record["seq"] == number
        assert record["prev"] == prev
        assert record["hash"] == hashlib.sha256(canonical.encode()).hexdigest()
        prev = record["hash"]
