"""The dashboard as a whole: start-up, the worker error handler, refresh, keymap, help, quit."""

from __future__ import annotations

import threading

import pytest

from hermes_ca_tui import events as ev
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, open_service
from hermes_ca_tui.screens.dialogs import ConfirmModal, ErrorModal
from hermes_ca_tui.screens.help import HelpScreen
from hermes_ca_tui.settings import TuiSettings
from tests.core.lifecycle import assert_unchanged, ca_rows, default_ids, snapshot
from tests.support import FixedClock, create_request
from tests.tui_support import (
    create_form,
    on_main,
    panel,
    press,
    row_names,
    running,
    seed,
    selected_name,
    shows,
    squash,
    status_text,
    table,
    type_text,
    widget_text,
)


@pytest.mark.asyncio
async def test_start_focuses_the_table_sorted_by_name_with_the_cursor_on_the_first_row(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root", "alpha Root", "Mike Root")
    async with running(profile, clock) as (app, _pilot):
        assert app.focused is table(app)
        assert row_names(app) == ["alpha Root", "Mike Root", "Zeta Root"]
        assert table(app).cursor_row == 0
        assert selected_name(app) == "alpha Root"


@pytest.mark.asyncio
async def test_status_line_shows_the_profile_the_default_ca_and_each_store(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root", "Alpha Root")
    async with running(profile, clock) as (app, _pilot):
        status = squash(status_text(app))
        assert squash(str(profile.label)) in status
        # The first CA created is the default (core rule), whatever the sort order.
        assert squash("default: Zeta Root  (2 CAs)") in status
        for store in ("hermes: ok", "djigzo: ok", "ciphermail: ok"):
            assert squash(store) in status, status
        reason = f"export: disabled (ALLOW_CA_DOWNLOAD=no in {profile.security_conf})"
        assert squash(reason) in status, status


@pytest.mark.asyncio
async def test_an_empty_folder_says_no_default_and_disables_actions_that_need_a_ca(
    profile: Profile, clock: FixedClock
) -> None:
    async with running(profile, clock) as (app, pilot):
        assert "default: none" in status_text(app)
        assert table(app).row_count == 0
        for action in ("set_default", "renew", "delete", "export", "details"):
            assert app.main.check_action(action, ()) is None, action
        assert app.main.check_action("open_create", ()) is True
        await press(pilot, "d", "r", "x", "enter")
        assert on_main(app)
        assert ca_rows(profile) == []


@pytest.mark.asyncio
async def test_a_core_refusal_in_a_worker_becomes_an_error_modal_with_code_and_wording(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Alpha Root")
    async with running(profile, clock) as (app, pilot):
        app.run_core("details", lambda s: ev.DetailsLoaded(s.show(4242)))
        await press(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.described.code == "CA_NOT_FOUND"
        assert shows(app, 'No Certificate Authority matches "4242".')
        assert shows(app, "(CA_NOT_FOUND)")
        await press(pilot, "escape")
        assert on_main(app)
        assert app.focused is table(app)


@pytest.mark.asyncio
async def test_an_unexpected_exception_in_a_worker_becomes_an_internal_error_modal(
    profile: Profile, clock: FixedClock
) -> None:
    async with running(profile, clock) as (app, pilot):

        def broken(service: CaService) -> None:
            raise ZeroDivisionError("boom")

        app.run_core("probe", broken)
        await press(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert shows(app, "ZeroDivisionError: see the log file")
        assert shows(app, "(INTERNAL)")
        await press(pilot, "enter")
        assert on_main(app)


@pytest.mark.asyncio
async def test_while_a_change_runs_the_other_changes_are_disabled_and_the_activity_shows_it(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, "Alpha Root", "Beta Root")
    release = threading.Event()
    async with running(profile, clock) as (app, pilot):

        def slow_change(service: CaService) -> None:
            assert release.wait(timeout=30)

        app.run_core("probe", slow_change, busy="Doing something slow...")
        try:
            await pilot.press("down")
            assert selected_name(app) == "Beta Root"
            before = snapshot(profile)
            for action in ("set_default", "renew", "delete"):
                assert app.main.check_action(action, ()) is None, action
            assert app.main.check_action("details", ()) is True  # reading still works
            await pilot.press("d", "x")
            assert on_main(app)
            assert "Doing something slow..." in widget_text(app.main.query_one("#activity"))
            # A form can be filled meanwhile, but submitting it waits for the change.
            await pilot.press("c")
            await pilot.pause()
            await type_text(pilot, "Gamma Root")
            for value in ("Acme", "IT", "Bavaria", "DE"):
                await pilot.press("tab")
                await type_text(pilot, value)
            await pilot.press("enter")
            await pilot.pause()
            assert create_form(app).value("common_name") == "Gamma Root"
            assert not panel(app, "create").collapsed
            assert_unchanged(before, snapshot(profile))
        finally:
            release.set()
        await press(pilot)
        assert app.busy is None
        assert_unchanged(before, snapshot(profile))  # d, x and the form did nothing
        await press(pilot, "escape")
        await press(pilot, "d")
        assert default_ids(profile) == [ids["Beta Root"]]


@pytest.mark.asyncio
async def test_f5_picks_up_a_ca_created_behind_the_apps_back(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Mike Root")
    async with running(profile, clock) as (app, pilot):
        assert row_names(app) == ["Mike Root"]
        other = open_service(profile, clock=clock)
        try:
            other.create(create_request("Alpha Root"))
        finally:
            other.close()
        assert row_names(app) == ["Mike Root"]
        await press(pilot, "f5")
        assert row_names(app) == ["Alpha Root", "Mike Root"]
        assert "(2 CAs)" in status_text(app)


@pytest.mark.asyncio
async def test_keymap_moves_delete_from_x_to_k(profile: Profile, clock: FixedClock) -> None:
    ids = seed(profile, clock, "Alpha Root", "Beta Root")
    settings = TuiSettings(keys={"delete": "k"})
    async with running(profile, clock, settings) as (app, pilot):
        await press(pilot, "down")
        assert selected_name(app) == "Beta Root"
        await press(pilot, "x")
        assert on_main(app)
        await press(pilot, "k")
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.id == "confirm-delete"
        await press(pilot, "y")
        assert [r["id"] for r in ca_rows(profile)] == [ids["Alpha Root"]]
        assert row_names(app) == ["Alpha Root"]


@pytest.mark.asyncio
async def test_help_lists_the_remapped_key(profile: Profile, clock: FixedClock) -> None:
    seed(profile, clock, "Alpha Root")
    async with running(profile, clock, TuiSettings(keys={"delete": "k"})) as (app, pilot):
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert shows(app, "k Delete") or shows(app, "kDelete")
        assert not shows(app, "x Delete")
        await press(pilot, "escape")
        assert on_main(app)


@pytest.mark.asyncio
async def test_q_quits_without_changing_anything(profile: Profile, clock: FixedClock) -> None:
    seed(profile, clock, "Alpha Root")
    async with running(profile, clock) as (app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert [r["ca_commonname"] for r in ca_rows(profile)] == ["Alpha Root"]
    assert len(default_ids(profile)) == 1
