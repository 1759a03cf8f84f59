"""Everything an operation needs: paths, stores, the bridge, the audit log, a clock, locks."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509

from hermes_ca_tui.core.audit import AuditLog
from hermes_ca_tui.core.certinfo import CertFacts, certificate_facts
from hermes_ca_tui.core.fsutil import PRIVATE_DIR_MODE, make_dir
from hermes_ca_tui.core.journal import Journal
from hermes_ca_tui.core.locks import DEFAULT_TIMEOUT, file_lock
from hermes_ca_tui.core.store.hermes import HermesRepository
from hermes_ca_tui.core.trust.bridge import CipherMailBridge

STATE_DIR = ".hermes-ca-tui"
"""Our own state under the CA root (lock, journal, staging); never a CA folder name."""

ARCHIVE_DIR = ".archive"
"""Where deleted CAs' trees go; never a CA folder name (those are alphanumeric)."""

OPERATION_LOCK_KEY = 0x48455243  # "HERC": the database-wide advisory lock id


@dataclass(frozen=True)
class Paths:
    """Where things live on disk."""

    ca_root: Path
    security_conf: Path
    audit_log: Path

    @property
    def state_dir(self) -> Path:
        """``<ca_root>/.hermes-ca-tui``."""
        return self.ca_root / STATE_DIR

    @property
    def lock_file(self) -> Path:
        """The operation lock (one writer at a time on this host)."""
        return self.state_dir / "lock"

    @property
    def journal_dir(self) -> Path:
        """Pending-operation entries."""
        return self.state_dir / "journal"

    @property
    def staging_dir(self) -> Path:
        """New trees are built here, then renamed into place (same filesystem)."""
        return self.state_dir / "staging"

    @property
    def archive_dir(self) -> Path:
        """Deleted CAs' trees."""
        return self.ca_root / ARCHIVE_DIR


class CertCache:
    """Parsed CA certificates, re-read only when the file changes (by inode, size, mtime)."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int, int], x509.Certificate, CertFacts]] = {}

    def get(self, path: Path) -> tuple[x509.Certificate, CertFacts] | None:
        """The certificate at ``path`` and its facts; ``None`` if missing or unparsable."""
        try:
            st = os.stat(path)
        except OSError:
            self._entries.pop(path, None)
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = self._entries.get(path)
        if hit and hit[0] == stamp:
            return hit[1], hit[2]
        try:
            cert = x509.load_pem_x509_certificates(Path(path).read_bytes())[0]
            # Raises ValueError for a subject cryptography cannot decode (e.g. a T61String
            # written by the web page's string_mask=nombstr): unreadable, not fatal.
            facts = certificate_facts(cert)
        except (OSError, ValueError, IndexError):
            self._entries.pop(path, None)
            return None
        self._entries[path] = (stamp, cert, facts)
        return cert, facts


@dataclass
class Context:
    """The wiring of one session (CLI run or TUI)."""

    paths: Paths
    hermes: HermesRepository
    bridge: CipherMailBridge
    audit: AuditLog
    clock: Callable[[], datetime]
    lock_timeout: float = DEFAULT_TIMEOUT
    certs: CertCache = field(default_factory=CertCache)
    new_serial: Callable[[], int] = x509.random_serial_number
    """Source of new certificate serials (random; snapshot tests pass a fixed one)."""

    @property
    def journal(self) -> Journal:
        """The pending-operation journal."""
        return Journal(self.paths.journal_dir)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the host-wide file lock and the database-wide lock for one operation."""
        make_dir(self.paths.state_dir, PRIVATE_DIR_MODE)
        with (
            file_lock(self.paths.lock_file, timeout=self.lock_timeout),
            self.hermes.database.operation_lock(OPERATION_LOCK_KEY, self.lock_timeout),
        ):
            yield

    def close(self) -> None:
        """Close database connections."""
        self.hermes.database.close()
        self.bridge.djigzo.database.close()
