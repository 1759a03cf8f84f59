"""Profiles and wiring: from "where do things live" to a ready :class:`CaService`.

The embedded default keeps everything in one data folder (PRODUCT §4): the CA root,
a ``security.conf`` with downloads off, SQLite databases holding the appliance's tables,
the audit log, and a CipherMail bridge in ``sql`` mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import platformdirs

from hermes_ca_tui.core.audit import AuditLog
from hermes_ca_tui.core.context import Context, Paths
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.fsutil import PRIVATE_DIR_MODE, make_dir, write_new
from hermes_ca_tui.core.health import StoreHealth
from hermes_ca_tui.core.locks import DEFAULT_TIMEOUT as DEFAULT_LOCK_TIMEOUT_S
from hermes_ca_tui.core.profile import utc_now
from hermes_ca_tui.core.security_conf import DEFAULT_CONTENT
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.store.database import Database
from hermes_ca_tui.core.store.djigzo import DjigzoRepository
from hermes_ca_tui.core.store.hermes import HermesRepository
from hermes_ca_tui.core.store.sqlite import DJIGZO_SCHEMA, HERMES_SCHEMA, sqlite_database
from hermes_ca_tui.core.trust.bridge import CertificateImporter, CipherMailBridge
from hermes_ca_tui.core.trust.docker_importer import (
    CERTSTORE_COMMAND,
    DEFAULT_TIMEOUT_S,
    DockerImporter,
)
from hermes_ca_tui.core.trust.sql_importer import SqlImporter

APP_NAME = "hermes-ca-tui"


@dataclass(frozen=True)
class Profile:
    """Where the three stores are.

    Attributes:
        label: Shown in the TUI header: the data folder or the config path.
        embedded: Whether this is the embedded default (we own the schema there).
    """

    label: str
    ca_root: Path
    security_conf: Path
    audit_log: Path
    hermes_url: str
    djigzo_url: str
    bridge_mode: str = "sql"
    docker_url: str = "unix:///var/run/docker.sock"
    container: str = "hermes_ciphermail"
    docker_timeout: float = DEFAULT_TIMEOUT_S
    certstore: tuple[str, ...] = CERTSTORE_COMMAND
    embedded: bool = True
    data_dir: Path | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S
    """Seconds an operation waits for another operator's change before LOCK_TIMEOUT."""


def default_data_dir() -> Path:
    """The platform's user-data folder for the app."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def embedded_profile(data_dir: Path | None = None) -> Profile:
    """The embedded default in ``data_dir`` (or the platform folder)."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = folder.expanduser().absolute()
    return Profile(
        label=str(folder),
        ca_root=folder / "CA",
        security_conf=folder / "security.conf",
        audit_log=folder / "audit.jsonl",
        hermes_url=f"sqlite:///{folder / 'hermes.sqlite3'}",
        djigzo_url=f"sqlite:///{folder / 'djigzo.sqlite3'}",
        embedded=True,
        data_dir=folder,
    )


def prepare_embedded(profile: Profile) -> None:
    """Create the data folder's contents on first use; never overwrite anything."""
    assert profile.data_dir is not None
    try:
        make_dir(profile.data_dir, PRIVATE_DIR_MODE)
        make_dir(profile.ca_root, PRIVATE_DIR_MODE)
        if not profile.security_conf.exists():
            # Another process may create it first; theirs is as good as ours.
            with contextlib.suppress(FileExistsError):
                write_new(profile.security_conf, DEFAULT_CONTENT, 0o644)
    except OSError as exc:
        raise CaError(
            Code.STORAGE_FAILED,
            path=str(exc.filename or profile.data_dir),
            reason=exc.strerror or type(exc).__name__,
        ) from None


def open_database(url: str, label: str, *, create_schema: bool) -> Database:
    """A :class:`Database` for ``sqlite:///path`` or a PostgreSQL URL/DSN.

    Args:
        url: Where the database is.
        label: ``hermes`` or ``djigzo`` (picks the schema, names it in messages).
        create_schema: Create the tables (with the constraints the appliance lacks) on
            first connection. Never on the appliance's own databases.

    Raises:
        CaError: CONFIG_INVALID for a DSN that does not parse.
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite://"))
        schema = (HERMES_SCHEMA if label == "hermes" else DJIGZO_SCHEMA) if create_schema else None
        return sqlite_database(label, path, schema)
    from hermes_ca_tui.core.store import postgres  # psycopg loads only when used

    problem = postgres.check_dsn(url)
    if problem:
        raise CaError(Code.CONFIG_INVALID, reason=f"the {label} database DSN: {problem}")
    schema = (
        (postgres.HERMES_SCHEMA if label == "hermes" else postgres.DJIGZO_SCHEMA)
        if create_schema
        else None
    )
    return postgres.postgres_database(label, url, schema)


SCHEMA_TABLES = {
    "hermes": ("ca_settings", "recipient_certificates"),
    "djigzo": ("cm_certificates", "cm_certificates_email", "cm_ctl", "cm_ctl_cm_name_values"),
}
"""The tables ``db init`` creates in each database."""


def init_schema(profile: Profile) -> list[str]:
    """Create both databases' tables with our constraints (``db init``).

    Only into a database that holds none of them: tables that exist (the appliance's,
    or an earlier ``db init``'s) are left exactly as they are, so that running it on the
    appliance by mistake changes nothing. Running it twice is harmless.

    Returns:
        What was done, one line per database.

    Raises:
        CaError: DATABASE_UNAVAILABLE when a server cannot be reached, or when a
            database holds some of the tables but not all (nothing is created there).
    """
    done = []
    for label, url in (("hermes", profile.hermes_url), ("djigzo", profile.djigzo_url)):
        tables = SCHEMA_TABLES[label]
        probe = open_database(url, label, create_schema=False)
        try:
            with probe.transaction(write=False) as tx:
                present = [name for name in tables if probe.dialect.table_exists(tx, name)]
        finally:
            probe.close()
        dialect = probe.dialect.name
        if len(present) == len(tables):
            done.append(f"{label}: tables already there, left unchanged ({dialect})")
            continue
        if present:
            missing = [name for name in tables if name not in present]
            raise CaError(
                Code.DATABASE_UNAVAILABLE,
                database=label,
                reason=(
                    f"it holds {', '.join(present)} but not {', '.join(missing)}; "
                    "db init only sets up a database without any of them"
                ),
            )
        database = open_database(url, label, create_schema=True)
        try:
            with database.transaction(write=False) as tx:
                tx.scalar("SELECT 1")
        finally:
            database.close()
        done.append(f"{label}: tables created ({dialect})")
    return done


def check_profile(profile: Profile, clock: Callable[[], datetime] = utc_now) -> list[StoreHealth]:
    """Test every store of a profile (``config check``).

    The appliance's stores are only read. The embedded default is opened as any session
    opens it, which sets up a new data folder and its tables (there is nothing else to
    set up there; "run db init" would be wrong advice).
    """
    results: list[StoreHealth] = []
    databases: dict[str, Database] = {}
    if profile.embedded:
        try:
            prepare_embedded(profile)
        except CaError as exc:
            results.append(StoreHealth("data folder", False, _reason(exc)))
    for label, url in (("hermes", profile.hermes_url), ("djigzo", profile.djigzo_url)):
        probe = (
            "SELECT COUNT(*) FROM ca_settings"
            if label == "hermes"
            else "SELECT COUNT(*) FROM cm_certificates"
        )
        try:
            database = open_database(url, label, create_schema=profile.embedded)
            databases[label] = database
            with database.transaction(write=False) as tx:
                tx.scalar(probe)
            results.append(StoreHealth(label, True, database.dialect.name))
        except CaError as exc:
            reason = _reason(exc)
            # A missing table, not a missing database (db init creates tables only).
            if "no such table" in reason or ('relation "' in reason and "does not exist" in reason):
                reason += " (create the tables with: hermes-ca-tui db init)"
            results.append(StoreHealth(label, False, reason))
    try:
        djigzo = DjigzoRepository(
            databases.get("djigzo")
            or open_database(profile.djigzo_url, "djigzo", create_schema=False)
        )
        importer = build_importer(profile, djigzo, clock)
        importer.check()
        results.append(StoreHealth("ciphermail", True, importer.describe()))
    except CaError as exc:
        detail = str(exc.params.get("reason", exc.code.name))
        hint = exc.params.get("hint")
        results.append(StoreHealth("ciphermail", False, f"{detail}. {hint}" if hint else detail))
    finally:
        for database in databases.values():
            database.close()
    return results


def _reason(exc: CaError) -> str:
    return str(exc.params.get("reason", exc.code.name))


def build_importer(
    profile: Profile, djigzo: DjigzoRepository, clock: Callable[[], datetime]
) -> CertificateImporter:
    """The importer of the profile's bridge mode."""
    if profile.bridge_mode == "sql":
        return SqlImporter(djigzo, clock)
    if profile.bridge_mode == "docker":
        return DockerImporter(
            profile.docker_url,
            profile.container,
            command=profile.certstore,
            timeout=profile.docker_timeout,
        )
    raise CaError(Code.CONFIG_INVALID, reason=f"unknown CipherMail mode {profile.bridge_mode!r}")


def open_service(
    profile: Profile,
    *,
    clock: Callable[[], datetime] = utc_now,
    lock_timeout: float | None = None,
    serials: Callable[[], int] | None = None,
) -> CaService:
    """Wire a :class:`CaService` for a profile and run start-up recovery.

    Args:
        profile: Where the stores are.
        clock: Source of "now" (tests and snapshots pass a fixed one).
        lock_timeout: How long to wait for another operator (seconds); the profile's
            ``lock_timeout`` when not given.
        serials: Source of new certificate serials for renewals (random by default;
            snapshot tests pass a fixed one, as they pass a fixed clock).
    """
    if profile.embedded:
        prepare_embedded(profile)
    hermes = HermesRepository(
        open_database(profile.hermes_url, "hermes", create_schema=profile.embedded)
    )
    djigzo = DjigzoRepository(
        open_database(profile.djigzo_url, "djigzo", create_schema=profile.embedded)
    )
    bridge = CipherMailBridge(djigzo, build_importer(profile, djigzo, clock))
    ctx = Context(
        paths=Paths(profile.ca_root, profile.security_conf, profile.audit_log),
        hermes=hermes,
        bridge=bridge,
        audit=AuditLog(profile.audit_log, clock),
        clock=clock,
    )
    ctx.lock_timeout = profile.lock_timeout if lock_timeout is None else lock_timeout
    if serials is not None:
        ctx.new_serial = serials
    service = CaService(ctx)
    service.startup()
    return service
