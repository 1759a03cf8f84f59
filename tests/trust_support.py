"""The three stores of an appliance profile (PostgreSQL + a CA root), read as an outsider.

The docker-mode tests (fake engine, crash, podman) judge the core by what really is in
the databases and on disk: rows are read with psycopg on fresh connections, trees with
``pathlib``, thumbprints computed here with ``hashlib``, never through the core.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.session import Profile

STATE_DIR = ".hermes-ca-tui"
ARCHIVE_DIR = ".archive"
CERT = Path("root_ca/certs/cacert.pem")
KEY = Path("root_ca/private/cakey.pem")
WHITELISTED = {"status": "whitelisted", "allowExpired": "false"}


def thumbprint_of(cert: x509.Certificate | bytes) -> str:
    """CipherMail's thumbprint (SHA-512 of the DER, upper-case hex), from a cert or PEM."""
    if isinstance(cert, bytes):
        cert = x509.load_pem_x509_certificate(cert)
    return hashlib.sha512(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def pem_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def rows(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one statement on a fresh autocommit connection."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def execute(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """One write statement, committed (to set up drift)."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql, params)


@dataclass(frozen=True)
class CaRow:
    id: int
    name: str
    directory: str
    default2: int
    expires: str
    djigzo_id: int | None


@dataclass(frozen=True)
class CmRow:
    cm_id: int
    thumbprint: str
    store: str
    subject: str
    serial: str
    der: bytes
    issuer: str
    not_before: str
    not_after: str


@dataclass
class Stores:
    """A snapshot of an appliance profile's three stores and its journal."""

    rows: dict[str, CaRow]
    trees: dict[str, bytes]
    """Folder name -> ``cacert.pem`` bytes (``b""`` when the folder has none)."""
    archives: list[str]
    cm: list[CmRow]
    ctl: dict[str, dict[str, str]]
    """Thumbprint -> name-values of its global CTL entry."""
    ctl_ids: dict[str, int]
    email: list[tuple[int, str]]
    journal: list[str]
    staging: list[str] = field(default_factory=list)

    def by_thumbprint(self, tp: str) -> list[CmRow]:
        return [r for r in self.cm if r.thumbprint == tp]

    def stores_of(self, tp: str) -> list[str]:
        return sorted(r.store for r in self.by_thumbprint(tp))

    def trusted(self, tp: str) -> bool:
        """A whitelisted root: exactly one row, in ``roots``, and its CTL entry."""
        return self.stores_of(tp) == ["roots"] and self.ctl.get(tp) == WHITELISTED

    def absent(self, tp: str) -> bool:
        """No certificate row and no CTL entry for the certificate."""
        return not self.by_thumbprint(tp) and tp not in self.ctl

    def tree_thumbprint(self, directory: str) -> str:
        return thumbprint_of(self.trees[directory])

    def ca_thumbprints(self) -> dict[str, str]:
        """CA name (lower) -> thumbprint of its tree's certificate."""
        return {n: self.tree_thumbprint(r.directory) for n, r in self.rows.items()}

    def defaults(self) -> list[str]:
        return sorted(r.name for r in self.rows.values() if r.default2 == 1)


def read_stores(profile: Profile) -> Stores:
    """Read everything a docker-mode profile holds (PostgreSQL databases)."""
    ca_rows = rows(
        profile.hermes_url,
        "SELECT id, ca_commonname, ca_directory, default2, expires, ca_djigzo_id "
        "FROM ca_settings ORDER BY id",
    )
    cm = [
        CmRow(
            int(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3] or ""),
            str(r[4] or ""),
            bytes(r[5] or b""),
            str(r[6] or ""),
            str(r[7] or ""),
            str(r[8] or ""),
        )
        for r in rows(
            profile.djigzo_url,
            "SELECT cm_id, cm_thumbprint, cm_store_name, cm_subject, cm_serial, cm_certificate, "
            "cm_issuer, cm_not_before, cm_not_after FROM cm_certificates ORDER BY cm_id",
        )
    ]
    ctl: dict[str, dict[str, str]] = {}
    ctl_ids: dict[str, int] = {}
    for tp, ctl_id, name, value in rows(
        profile.djigzo_url,
        "SELECT t.cm_thumbprint, t.cm_id, v.cm_name, v.cm_value FROM cm_ctl t "
        "LEFT JOIN cm_ctl_cm_name_values v ON v.cm_ctl = t.cm_id WHERE t.cm_name = 'global' "
        "ORDER BY t.cm_id",
    ):
        entry = ctl.setdefault(str(tp), {})
        ctl_ids[str(tp)] = int(ctl_id)
        if name is not None:
            entry[str(name)] = str(value)
    email = [
        (int(r[0]), str(r[1]))
        for r in rows(
            profile.djigzo_url,
            "SELECT cm_certificates_id, cm_email FROM cm_certificates_email ORDER BY gl_id",
        )
    ]
    root = profile.ca_root
    trees: dict[str, bytes] = {}
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.is_dir() and folder.name not in (STATE_DIR, ARCHIVE_DIR):
                cert = folder / CERT
                trees[folder.name] = cert.read_bytes() if cert.is_file() else b""
    archive = root / ARCHIVE_DIR
    journal = root / STATE_DIR / "journal"
    staging = root / STATE_DIR / "staging"
    return Stores(
        rows={
            str(r[1]).lower(): CaRow(
                int(r[0]), str(r[1]), str(r[2]), int(r[3] or 0), str(r[4]), r[5]
            )
            for r in ca_rows
        },
        trees=trees,
        archives=sorted(p.name for p in archive.iterdir()) if archive.is_dir() else [],
        cm=cm,
        ctl=ctl,
        ctl_ids=ctl_ids,
        email=email,
        journal=sorted(p.name for p in journal.glob("*.json")) if journal.is_dir() else [],
        staging=sorted(p.name for p in staging.iterdir()) if staging.is_dir() else [],
    )


def assert_one_truth(stores: Stores, *, foreign: frozenset[str] = frozenset()) -> None:
    """The three stores agree, with nothing extra anywhere.

    Every row has its tree; every tree its row; every CA's certificate is a whitelisted
    root (one ``roots`` row, which ``ca_djigzo_id`` names, plus its CTL entry); and no
    certificate row or CTL entry exists for anything but a current CA's certificate
    (except the ``foreign`` thumbprints a test put there itself).

    Args:
        stores: The snapshot.
        foreign: Thumbprints of rows that belong to somebody else.
    """
    assert sorted(r.directory for r in stores.rows.values()) == sorted(stores.trees), (
        "rows and trees differ"
    )
    current: set[str] = set()
    for name, row in stores.rows.items():
        tp = stores.tree_thumbprint(row.directory)
        current.add(tp)
        assert stores.trusted(tp), f"{name}: not a whitelisted root: {stores.stores_of(tp)}"
        assert row.djigzo_id == stores.by_thumbprint(tp)[0].cm_id, f"{name}: stale ca_djigzo_id"
    extra_rows = {r.thumbprint for r in stores.cm} - current - foreign
    extra_ctl = set(stores.ctl) - current - foreign
    assert not extra_rows, f"certificate rows without a CA: {sorted(t[:16] for t in extra_rows)}"
    assert not extra_ctl, f"trust-list entries without a CA: {sorted(t[:16] for t in extra_ctl)}"
    if stores.rows:
        assert len(stores.defaults()) == 1, stores.defaults()
    assert stores.journal == [], stores.journal


# --- the whole lifecycle, for the fake engine and for podman ---------------------------


@dataclass(frozen=True)
class LifecycleRun:
    """What the lifecycle imported into CipherMail, in order (PEM of each certificate)."""

    imported: list[bytes]
    final: Stores


def run_lifecycle(profile: Profile, folder: Path) -> LifecycleRun:
    """Create, import, set-default, renew, export, doctor and delete through the core.

    Every step is checked against the three stores as read from outside.
    """
    from hermes_ca_tui.core.ops.export import ExportRequest, ExportWhat
    from hermes_ca_tui.core.ops.importing import ImportRequest
    from hermes_ca_tui.core.session import open_service
    from tests.support import build_cert, create_request, rsa_key, write_pair

    folder.mkdir(parents=True, exist_ok=True)
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    imported: list[bytes] = []
    service = open_service(profile)
    try:
        alpha = service.create(create_request("Alpha Root"))
        stores = read_stores(profile)
        alpha_pem = stores.trees[alpha.summary.directory]
        imported.append(alpha_pem)
        assert stores.trusted(thumbprint_of(alpha_pem))
        assert stores.defaults() == ["Alpha Root"]
        assert_one_truth(stores)

        key = rsa_key(2048, 30)
        files = write_pair(folder / "input", build_cert("Beta Import CA", key), key)
        plan = service.inspect_import(
            ImportRequest(name="Beta Import", cert_file=files.cert, key_file=files.key)
        )
        beta = service.import_ca(plan, accept_warnings=True)
        stores = read_stores(profile)
        beta_pem = stores.trees[beta.summary.directory]
        assert beta_pem == files.cert.read_bytes()
        imported.append(beta_pem)
        assert_one_truth(stores)

        before = stores
        service.set_default(beta.summary.id)
        stores = read_stores(profile)
        assert stores.defaults() == ["Beta Import"]
        assert (stores.cm, stores.ctl) == (before.cm, before.ctl), "set-default leaves trust"
        assert_one_truth(stores)

        renewed, notes = service.renew(service.plan_renew("Alpha Root"), accept_warnings=True)
        assert notes == []
        stores = read_stores(profile)
        new_pem = stores.trees[alpha.summary.directory]
        imported.append(new_pem)
        assert new_pem != alpha_pem
        assert stores.absent(thumbprint_of(alpha_pem)), "the old certificate's entry went"
        assert stores.trusted(thumbprint_of(new_pem))
        assert renewed.summary.expires is not None
        assert stores.rows["alpha root"].expires == renewed.summary.expires.isoformat()
        assert_one_truth(stores)

        exported = service.export(
            ExportRequest(ref="Alpha Root", what=ExportWhat.CERT, out=folder / "alpha.pem")
        )
        assert exported.path.read_bytes() == new_pem
        key_out = service.export(
            ExportRequest(ref="Alpha Root", what=ExportWhat.KEY, out=folder / "alpha.key")
        )
        assert key_out.path.stat().st_mode & 0o777 == 0o600
        key_pem = key_out.path.read_bytes()
        loaded = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(new_pem)
        assert loaded.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]

        report = service.doctor()
        assert report.ok, report.findings

        beta_rows = stores.by_thumbprint(thumbprint_of(beta_pem))
        result = service.delete("Alpha Root")
        assert result.archive is not None
        stores = read_stores(profile)
        assert stores.absent(thumbprint_of(new_pem))
        assert stores.by_thumbprint(thumbprint_of(beta_pem)) == beta_rows
        assert len(stores.archives) == 1
        assert_one_truth(stores)
        assert [c.name for c in service.list_cas()] == ["Beta Import"]
        report = service.doctor()
        assert report.ok, report.findings
    finally:
        service.close()
    return LifecycleRun(imported, read_stores(profile))


def write_config(profile: Profile, path: Path) -> Path:
    """The TOML configuration file of an appliance profile (``--config``)."""
    lines = [
        f"ca_root = {json.dumps(str(profile.ca_root))}",
        f"security_conf = {json.dumps(str(profile.security_conf))}",
        f"audit_log = {json.dumps(str(profile.audit_log))}",
        "[database]",
        f"hermes = {json.dumps(profile.hermes_url)}",
        f"djigzo = {json.dumps(profile.djigzo_url)}",
        "[ciphermail]",
        f"mode = {json.dumps(profile.bridge_mode)}",
        f"docker_url = {json.dumps(profile.docker_url)}",
        f"container = {json.dumps(profile.container)}",
        f"timeout = {profile.docker_timeout}",
        f"certstore = {json.dumps(list(profile.certstore))}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli_config(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m hermes_ca_tui --config FILE ARGS`` in a subprocess (argv list, no shell)."""
    from tests.support import REPO

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_CA_TUI_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hermes_ca_tui", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
