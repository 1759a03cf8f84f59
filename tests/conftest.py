"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, embedded_profile, open_service
from hermes_ca_tui.core.views import CaDetails
from tests.support import FixedClock, create_request


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An embedded-default data folder (created by the first session)."""
    return tmp_path / "data"


@pytest.fixture
def profile(data_dir: Path) -> Profile:
    """The embedded profile on ``data_dir``."""
    return embedded_profile(data_dir)


@pytest.fixture
def service(profile: Profile) -> Iterator[CaService]:
    """A service on the embedded default, with the real clock."""
    svc = open_service(profile)
    yield svc
    svc.close()


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock (2026-12-03 12:00 UTC) that tests can move."""
    return FixedClock()


@pytest.fixture
def clocked_service(profile: Profile, clock: FixedClock) -> Iterator[CaService]:
    """A service on the embedded default, on the fixed clock."""
    svc = open_service(profile, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def make_ca(service: CaService) -> Callable[..., CaDetails]:
    """Create a CA through the core (2048-bit unless asked otherwise)."""

    def _make(name: str = "Test Root CA", **overrides: object) -> CaDetails:
        return service.create(create_request(name, **overrides))

    return _make


@pytest.fixture
def allow_downloads(profile: Profile) -> Path:
    """Switch ALLOW_CA_DOWNLOAD=yes on in the data folder's security.conf."""
    profile.security_conf.parent.mkdir(parents=True, exist_ok=True)
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    return profile.security_conf


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for the session (a throwaway cluster, or ``PGTEST_DSN``)."""
    from tests.postgres_server import throwaway_cluster

    with throwaway_cluster() as dsn:
        yield dsn


@pytest.fixture
def pg_databases(pg_server: str) -> Iterator[tuple[str, str]]:
    """Fresh, empty hermes and djigzo databases (DSNs), dropped afterwards."""
    from tests.postgres_server import create_database, drop_database

    hermes = create_database(pg_server, "hermes")
    djigzo = create_database(pg_server, "djigzo")
    yield hermes, djigzo
    drop_database(pg_server, hermes)
    drop_database(pg_server, djigzo)


@pytest.fixture
def pg_profile(tmp_path: Path, pg_databases: tuple[str, str]) -> Profile:
    """An appliance-style profile on PostgreSQL (tables created), bridge in sql mode."""
    from hermes_ca_tui.core.session import init_schema

    hermes, djigzo = pg_databases
    profile = Profile(
        label="postgres test",
        ca_root=tmp_path / "CA",
        security_conf=tmp_path / "security.conf",
        audit_log=tmp_path / "audit.jsonl",
        hermes_url=hermes,
        djigzo_url=djigzo,
        bridge_mode="sql",
        embedded=False,
    )
    init_schema(profile)
    return profile
