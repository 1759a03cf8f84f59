"""The confirmation and error modals: Cancel has the focus; y confirms; n, Esc, Enter cancel.

They are opened the way an operator opens them (delete, import) and judged by the stores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.screens.dialogs import ConfirmModal, ErrorModal
from tests.core.lifecycle import assert_unchanged, ca_rows, snapshot
from tests.support import FixedClock
from tests.tui_support import (
    focused_id,
    move_to,
    on_main,
    press,
    row_names,
    running,
    seed,
    shows,
    submit_import,
    table,
)


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["enter", "n", "escape"])
async def test_the_delete_confirmation_cancels_with_enter_n_and_escape(
    profile: Profile, clock: FixedClock, key: str
) -> None:
    seed(profile, clock, "Alpha Root", "Beta Root")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmModal)
        assert focused_id(app) == "cancel"
        await press(pilot, key)
        assert on_main(app)
        assert app.focused is table(app)
        assert_unchanged(before, snapshot(profile))
        assert row_names(app) == ["Alpha Root", "Beta Root"]


@pytest.mark.asyncio
async def test_tab_to_the_confirm_button_and_enter_confirms(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Alpha Root", "Beta Root")
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "x")
        await pilot.press("tab")
        assert focused_id(app) == "confirm"
        await press(pilot, "enter")
        assert [r["ca_commonname"] for r in ca_rows(profile)] == ["Alpha Root"]


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["escape", "enter", "o"])
async def test_the_error_modal_closes_with_escape_enter_and_o(
    profile: Profile, tmp_path: Path, clock: FixedClock, key: str
) -> None:
    seed(profile, clock, "Alpha Root")
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"garbage")
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "Some Root", str(garbage), str(garbage))
        assert isinstance(app.screen, ErrorModal)
        assert focused_id(app) == "ok"
        await press(pilot, key)
        assert on_main(app)


@pytest.mark.asyncio
async def test_on_an_80x24_console_the_renew_confirmation_shows_its_buttons(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Alpha Root")
    async with running(profile, clock, size=(80, 24)) as (app, pilot):
        await press(pilot, "r")
        assert isinstance(app.screen, ConfirmModal)
        screen = app.screen.region
        for selector in ("#cancel", "#confirm"):
            button = app.screen.query_one(selector)
            assert screen.contains_region(button.region), selector
        assert shows(app, "Cancel") and shows(app, "Renew (y)")
        await press(pilot, "escape")
