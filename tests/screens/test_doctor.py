"""The doctor view: drift planted with sqlite3 is found, and repaired after a confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.screens.dialogs import ConfirmModal
from hermes_ca_tui.screens.doctor import DoctorScreen
from tests.core import stores
from tests.core.lifecycle import assert_unchanged, ca_row, execute, snapshot
from tests.support import FixedClock
from tests.tui_support import (
    cell_text,
    focused_id,
    on_main,
    press,
    running,
    seed,
    shows,
    widget_text,
)

NAMES = ("Alpha Root", "Beta Root")


def thumbprint(data_dir: Path, name: str) -> str:
    state = stores.snapshot(data_dir)
    return stores.thumbprint_of(state.trees[state.rows[name.lower()].directory][stores.CERT])


def drop_trust_list_entry(profile: Profile, tp: str) -> None:
    """CipherMail forgot the CA's trust-list entry (its root certificate row stays)."""
    execute(
        profile.djigzo_url,
        "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl IN "
        "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?)",
        (tp,),
    )
    execute(profile.djigzo_url, "DELETE FROM cm_ctl WHERE cm_thumbprint = ?", (tp,))


def findings(app: HermesCaApp) -> list[tuple[str, str]]:
    """(CA, code) of each row of the findings table."""
    table: DataTable[object] = app.screen.query_one("#findings", DataTable)
    return [
        (str(table.get_cell(row.key, "ca")), str(table.get_cell(row.key, "code")))
        for row in table.ordered_rows
    ]


def what(app: HermesCaApp) -> list[str]:
    """The "What" cell of each finding (it wraps on screen, in its own column)."""
    table: DataTable[object] = app.screen.query_one("#findings", DataTable)
    return [str(table.get_cell(row.key, "what")) for row in table.ordered_rows]


def summary(app: HermesCaApp) -> str:
    return " ".join(widget_text(app.screen.query_one("#doctor-summary")).split())


@pytest.mark.asyncio
async def test_doctor_shows_a_planted_drift_and_r_y_repairs_it_in_the_database(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    beta_id = ids["Beta Root"]
    tp = thumbprint(data_dir, "Beta Root")
    drop_trust_list_entry(profile, tp)
    assert not stores.snapshot(data_dir).trusted(tp)
    async with running(profile, clock) as (app, pilot):
        assert cell_text(app, beta_id, "trust") == "no trust entry"
        await press(pilot, "o")
        assert isinstance(app.screen, DoctorScreen)
        assert findings(app) == [("Beta Root", "CTL_MISSING")]
        assert what(app) == ["CipherMail's trust list has no entry for this certificate."]
        assert shows(app, "Beta Root           CTL_MISSING")
        assert summary(app).startswith("1 finding(s), 1 repairable.")

        await press(pilot, "r")
        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "confirm-repair"
        assert focused_id(app) == "cancel"
        assert shows(app, "Beta Root: add the trust-list entry (whitelisted, allowExpired=false)")
        await press(pilot, "y")

        state = stores.snapshot(data_dir)
        assert state.trusted(tp)
        stores.assert_consistent(state)
        assert isinstance(app.screen, DoctorScreen)
        assert findings(app) == []
        assert summary(app) == "All 2 CA(s) consistent across the three stores."
        assert app.screen.check_action("repair_all", ()) is None

        await press(pilot, "escape")
        assert on_main(app)
        assert cell_text(app, beta_id, "trust") == "trusted"


@pytest.mark.asyncio
async def test_r_repairs_only_the_selected_finding(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    tp = thumbprint(data_dir, "Beta Root")
    drop_trust_list_entry(profile, tp)
    execute(
        profile.hermes_url,
        "UPDATE ca_settings SET expires = '2030-01-01' WHERE id = ?",
        (ids["Alpha Root"],),
    )
    async with running(profile, clock) as (app, pilot):
        await press(pilot, "o")
        assert findings(app) == [("Alpha Root", "EXPIRES_MISMATCH"), ("Beta Root", "CTL_MISSING")]
        await press(pilot, "down")  # the second finding: Beta's
        await press(pilot, "r")
        assert isinstance(app.screen, ConfirmModal)
        assert shows(app, "Repair 1 finding(s)?")
        await press(pilot, "y")

        assert findings(app) == [("Alpha Root", "EXPIRES_MISMATCH")]
        assert stores.snapshot(data_dir).trusted(tp)
        assert ca_row(profile, ids["Alpha Root"])["expires"] == "2030-01-01"  # left alone


@pytest.mark.asyncio
async def test_a_repairs_every_finding_after_a_confirmation(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    tp = thumbprint(data_dir, "Beta Root")
    drop_trust_list_entry(profile, tp)
    execute(
        profile.hermes_url,
        "UPDATE ca_settings SET expires = '2030-01-01' WHERE id = ?",
        (ids["Alpha Root"],),
    )
    async with running(profile, clock) as (app, pilot):
        await press(pilot, "o")
        assert len(findings(app)) == 2
        await press(pilot, "a")
        assert isinstance(app.screen, ConfirmModal)
        assert shows(app, "Repair 2 finding(s)?")
        assert shows(app, "Alpha Root: set the row's expiry to")
        await press(pilot, "y")

        stores.assert_consistent(stores.snapshot(data_dir))  # trusted and expiry agree
        assert findings(app) == []


@pytest.mark.asyncio
async def test_n_on_the_repair_confirmation_changes_nothing(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    seed(profile, clock, *NAMES)
    drop_trust_list_entry(profile, thumbprint(data_dir, "Beta Root"))
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await press(pilot, "o")
        await press(pilot, "a")
        await press(pilot, "n")
        assert isinstance(app.screen, DoctorScreen)
        assert findings(app) == [("Beta Root", "CTL_MISSING")]
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_f5_in_the_doctor_finds_drift_planted_while_it_is_open(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    seed(profile, clock, *NAMES)
    async with running(profile, clock) as (app, pilot):
        await press(pilot, "o")
        assert findings(app) == []
        assert summary(app) == "All 2 CA(s) consistent across the three stores."
        assert app.screen.check_action("repair_one", ()) is None
        drop_trust_list_entry(profile, thumbprint(data_dir, "Alpha Root"))
        await press(pilot, "f5")
        assert isinstance(app.screen, DoctorScreen)
        assert findings(app) == [("Alpha Root", "CTL_MISSING")]
