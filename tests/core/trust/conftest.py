"""Fixtures of the docker-mode tests: a fake engine with a CertStore stand-in, PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace

import pytest

from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, open_service
from hermes_ca_tui.core.trust.docker_importer import CERTSTORE_COMMAND
from tests.fake_docker import CertStoreStandIn, FakeDockerEngine, install_certstore


@pytest.fixture
def fake_engine() -> Iterator[FakeDockerEngine]:
    """A running fake engine with a running ``hermes_ciphermail`` container."""
    engine = FakeDockerEngine().start()
    engine.add_container("hermes_ciphermail")
    yield engine
    engine.stop()
    shutil.rmtree(engine.folder, ignore_errors=True)
    assert engine.errors == [], "\n".join(engine.errors)


@pytest.fixture
def certstore(fake_engine: FakeDockerEngine, pg_profile: Profile) -> CertStoreStandIn:
    """CertStore in the fake container, importing into the profile's djigzo database."""
    return install_certstore(fake_engine, CERTSTORE_COMMAND, pg_profile.djigzo_url)


@pytest.fixture
def docker_profile(
    pg_profile: Profile, fake_engine: FakeDockerEngine, certstore: CertStoreStandIn
) -> Profile:
    """The PostgreSQL profile with the bridge in docker mode at the fake engine."""
    return replace(
        pg_profile, bridge_mode="docker", docker_url=fake_engine.url, docker_timeout=10.0
    )


@pytest.fixture
def docker_service(docker_profile: Profile) -> Iterator[CaService]:
    """A service on PostgreSQL + the fake engine."""
    service = open_service(docker_profile)
    yield service
    service.close()
