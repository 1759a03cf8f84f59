"""The details view: Enter on a row shows the CA, fingerprints grouped to be read aloud."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.screens.details import DetailsScreen
from tests.core import stores
from tests.support import FixedClock
from tests.tui_support import (
    move_to,
    on_main,
    press,
    running,
    seed,
    selected_name,
    shows,
    table,
    visible_text,
)


def grouped(fingerprint: str, per_line: int) -> list[str]:
    """``1  AB CD EF 01    2  ...``: numbered groups of four bytes, ``per_line`` bytes a line."""
    octets = [fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)]
    groups = [" ".join(octets[i : i + 4]) for i in range(0, len(octets), 4)]
    per = per_line // 4
    return [
        "   ".join(f"{n + 1:>2}  {g}" for n, g in enumerate(groups[start : start + per], start))
        for start in range(0, len(groups), per)
    ]


def beta_cert(data_dir: Path) -> x509.Certificate:
    state = stores.snapshot(data_dir)
    return x509.load_pem_x509_certificate(
        state.trees[state.rows["beta root"].directory][stores.CERT]
    )


def shown_lines(app: HermesCaApp) -> list[str]:
    return [line.strip() for line in visible_text(app).splitlines()]


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(100, 34), (80, 24)], ids=["100x34", "80x24"])
async def test_enter_on_a_row_shows_its_fingerprints_in_numbered_groups_and_escape_returns(
    profile: Profile, data_dir: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(profile, clock, "Alpha Root", "Beta Root")
    cert = beta_cert(data_dir)
    sha256 = cert.fingerprint(hashes.SHA256()).hex().upper()
    sha1 = cert.fingerprint(hashes.SHA1()).hex().upper()
    async with running(profile, clock, size=size) as (app, pilot):
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "enter")
        assert isinstance(app.screen, DetailsScreen)
        assert shows(app, "Beta Root")
        assert shows(app, "Trust       trusted")
        assert shows(app, "Esc: back")  # the dialog is not cut off at the bottom
        # The fingerprints come first: shown at once, without scrolling, even on 80x24.
        lines = shown_lines(app)
        expected = grouped(sha256, 16) + grouped(sha1, 12)
        assert len(expected) == 4
        for line in expected:
            assert line.strip() in lines, visible_text(app)
        assert shows(app, "Esc: back")

        await press(pilot, "escape")
        assert on_main(app)
        assert app.focused is table(app)
        assert selected_name(app) == "Beta Root"


@pytest.mark.asyncio
async def test_details_show_the_serial_and_validity_of_the_certificate_on_disk(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Alpha Root", "Beta Root")
    cert = beta_cert(data_dir)
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "enter")
        assert shows(app, f"Serial      {cert.serial_number:X}")
        until = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC")
        assert shows(app, f"Valid until {until}")
        await press(pilot, "q")  # q closes the details too (and does not quit)
        assert on_main(app)
        assert app.is_running
