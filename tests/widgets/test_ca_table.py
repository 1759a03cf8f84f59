"""The CA table: rows keyed by CA id, updated in place, the cursor following its CA."""

from __future__ import annotations

from datetime import date

import pytest

from hermes_ca_tui.core.session import Profile, open_service
from tests.core.lifecycle import ca_row
from tests.support import FixedClock, create_request
from tests.tui_support import (
    AppPilot,
    cell_text,
    move_to,
    press,
    row_names,
    running,
    seed,
    selected_name,
    table,
    type_text,
)


def behind_the_apps_back(
    profile: Profile, clock: FixedClock, *, create: str = "", delete: str = ""
) -> None:
    """Another operator's change, through a second service on the same stores."""
    other = open_service(profile, clock=clock)
    try:
        if create:
            other.create(create_request(create))
        if delete:
            other.delete(delete)
    finally:
        other.close()


async def create_by_keys(pilot: AppPilot, name: str) -> None:
    """Create a 2048-bit CA through the form."""
    await press(pilot, "c")
    for n, value in enumerate([name, "Acme", "IT", "Bavaria", "DE"]):
        if n:
            await pilot.press("tab")
        await type_text(pilot, value)
    await pilot.press("tab", "enter", "down", "enter", "shift+tab")
    await press(pilot, "enter")


@pytest.mark.asyncio
async def test_a_row_sorted_in_above_the_cursor_by_another_operator_leaves_the_cursor_on_its_ca(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Mike Root", "Zulu Root")
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Zulu Root")
        assert table(app).cursor_row == 1
        behind_the_apps_back(profile, clock, create="Alpha Root")
        await press(pilot, "f5")
        assert row_names(app) == ["Alpha Root", "Mike Root", "Zulu Root"]
        assert selected_name(app) == "Zulu Root"
        assert table(app).cursor_row == 2


@pytest.mark.asyncio
async def test_a_row_removed_above_the_cursor_leaves_the_cursor_on_its_ca(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Alpha Root", "Mike Root", "Zulu Root")
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Zulu Root")
        behind_the_apps_back(profile, clock, delete="Mike Root")
        await press(pilot, "f5")
        assert row_names(app) == ["Alpha Root", "Zulu Root"]
        assert selected_name(app) == "Zulu Root"
        assert table(app).cursor_row == 1


@pytest.mark.asyncio
async def test_a_create_that_sorts_above_the_cursor_puts_the_cursor_on_the_new_ca(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, "Mike Root", "Zulu Root")
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Zulu Root")
        await create_by_keys(pilot, "Alpha Root")
        assert row_names(app) == ["Alpha Root", "Mike Root", "Zulu Root"]
        assert selected_name(app) == "Alpha Root"
        # Then setting a default on another row keeps the cursor there, by key.
        await move_to(pilot, app, "Zulu Root")
        await press(pilot, "d")
        assert selected_name(app) == "Zulu Root"
        assert ca_row(profile, ids["Zulu Root"])["default2"] == 1


@pytest.mark.asyncio
async def test_expiry_badges_follow_the_clock_amber_days_then_red_expired(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, "Short Root", years=1)
    ca_id = ids["Short Root"]
    expires = date.fromisoformat(str(ca_row(profile, ca_id)["expires"]))
    async with running(profile, clock) as (app, pilot):
        assert cell_text(app, ca_id, "expires") == expires.isoformat()
        clock.advance(days=300)
        await press(pilot, "f5")
        left = (expires - clock.now.date()).days
        assert 0 < left < 90
        assert cell_text(app, ca_id, "expires") == f"{expires.isoformat()}  {left} days "
        clock.advance(days=100)
        await press(pilot, "f5")
        assert cell_text(app, ca_id, "expires") == f"{expires.isoformat()}  Expired "


@pytest.mark.asyncio
async def test_rows_show_type_key_bits_default_issued_and_trust(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, "Alpha Root", "Beta Root")
    async with running(profile, clock) as (app, _pilot):
        alpha = ids["Alpha Root"]
        assert [
            cell_text(app, alpha, c) for c in ("type", "key", "default", "issued", "trust")
        ] == [
            "Internal",
            "2048-bit",
            "YES",
            "0",
            "trusted",
        ]
        assert cell_text(app, ids["Beta Root"], "default") == ""
