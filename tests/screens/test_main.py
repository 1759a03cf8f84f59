"""The main screen's actions on the selected CA: set default, renew, delete, filter, export.

Each test presses the keys an operator would and then reads the stores from outside
(sqlite3 and the files), not only the screen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography import x509

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.screens.dialogs import ConfirmModal
from hermes_ca_tui.screens.export import ExportScreen
from tests.core import stores
from tests.core.lifecycle import (
    assert_unchanged,
    ca_row,
    ca_rows,
    default_ids,
    execute,
    snapshot,
)
from tests.support import FixedClock
from tests.tui_support import (
    cell_text,
    focused_id,
    move_to,
    on_main,
    press,
    replace_text,
    row_ids,
    row_names,
    running,
    seed,
    selected_name,
    shows,
    squash,
    status_text,
    table,
    type_text,
    visible_text,
)

NAMES = ("Alpha Root", "Beta Root", "Gamma Root")


def add_issued(profile: Profile, ca_id: int, count: int) -> None:
    """Recipient certificates issued by the CA, as the web application records them."""
    for n in range(count):
        execute(
            profile.hermes_url,
            "INSERT INTO recipient_certificates (ca_id, user_id, smime_certificate_name, serial) "
            "VALUES (?, ?, ?, ?)",
            (ca_id, n + 1, f"user{n}_token_cert.pem", f"{0x100 + n:04X}"),
        )


def cert_file(data_dir: Path, profile: Profile, ca_id: int) -> Path:
    directory = ca_row(profile, ca_id)["ca_directory"]
    return data_dir / "CA" / str(directory) / stores.CERT


def status_shows(app: HermesCaApp, text: str) -> bool:
    return squash(text) in squash(status_text(app))


# --- set default ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_set_default_on_the_second_row_makes_it_the_only_default_and_keeps_the_cursor(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    assert default_ids(profile) == [ids["Alpha Root"]]
    async with running(profile, clock) as (app, pilot):
        order = row_ids(app)
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "d")

        assert default_ids(profile) == [ids["Beta Root"]]
        assert row_ids(app) == order  # updated in place: same rows, same order
        assert table(app).cursor_row == 1
        assert selected_name(app) == "Beta Root"
        assert cell_text(app, ids["Beta Root"], "default") == "YES"
        assert cell_text(app, ids["Alpha Root"], "default") == ""
        assert status_shows(app, "default: Beta Root")


@pytest.mark.asyncio
async def test_set_default_on_the_default_ca_changes_nothing(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        assert selected_name(app) == "Alpha Root"
        await press(pilot, "d")
        assert_unchanged(before, snapshot(profile))
        assert default_ids(profile) == [ids["Alpha Root"]]


# --- renew ---------------------------------------------------------------------------


def renew_facts(app: HermesCaApp) -> tuple[str, str, str, str]:
    """(current expiry, new expiry, current serial, new serial) as the modal shows them."""
    text = visible_text(app)
    expiry = re.search(r"Expires:\s+(\d{4}-\d\d-\d\d)\s+->\s+(\d{4}-\d\d-\d\d)", text)
    serial = re.search(r"Serial:\s+([0-9A-F]+)\s+->\s+([0-9A-F]+)", text)
    assert expiry is not None and serial is not None, text
    return expiry[1], expiry[2], serial[1], serial[2]


@pytest.mark.asyncio
async def test_renew_asks_with_cancel_focused_and_enter_cancels_without_a_change(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await move_to(pilot, app, "Gamma Root")
        await press(pilot, "r")
        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "confirm-renew"
        assert focused_id(app) == "cancel"
        current, new, old_serial, new_serial = renew_facts(app)
        assert current == ca_row(profile, ids["Gamma Root"])["expires"]
        assert new > current
        cert = x509.load_pem_x509_certificate(
            cert_file(data_dir, profile, ids["Gamma Root"]).read_bytes()
        )
        assert old_serial == f"{cert.serial_number:X}"
        assert new_serial != old_serial
        await press(pilot, "enter")
        assert on_main(app)
        assert_unchanged(before, snapshot(profile))
        assert selected_name(app) == "Gamma Root"


@pytest.mark.asyncio
async def test_renew_confirmed_with_y_changes_expiry_and_certificate_and_keeps_the_key(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    beta = ids["Beta Root"]
    path = cert_file(data_dir, profile, beta)
    key_path = path.parents[1] / "private" / "cakey.pem"
    old_cert, old_key = path.read_bytes(), key_path.read_bytes()
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "r")
        current, new, _, new_serial = renew_facts(app)
        await press(pilot, "y")

        assert ca_row(profile, beta)["expires"] == new != current
        renewed = x509.load_pem_x509_certificate(path.read_bytes())
        assert path.read_bytes() != old_cert
        assert f"{renewed.serial_number:X}" == new_serial
        assert renewed.not_valid_after_utc.date().isoformat() == new
        assert renewed.subject == x509.load_pem_x509_certificate(old_cert).subject
        assert key_path.read_bytes() == old_key
        stores.assert_consistent(stores.snapshot(data_dir))  # trusted: the new cert

        assert on_main(app)
        assert cell_text(app, beta, "expires").startswith(new)
        assert selected_name(app) == "Beta Root"


# --- delete --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_delete_is_refused_with_the_count_while_issued_certificates_reference_the_ca(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    add_issued(profile, ids["Beta Root"], 3)
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "refuse-delete"
        assert shows(
            app,
            "This Certificate Authority has issued certificates (3). Delete the "
            "associated user certificates first.",
        )
        assert focused_id(app) == "cancel"
        assert not app.screen.query("#confirm")  # nothing to confirm
        await press(pilot, "y")  # y cannot force it
        assert on_main(app)
        assert_unchanged(before, snapshot(profile))
        assert row_names(app) == list(NAMES)


@pytest.mark.asyncio
async def test_delete_confirmed_with_y_removes_the_row_archives_the_tree_and_its_trust(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    before = stores.snapshot(data_dir)
    beta = before.rows["beta root"]
    beta_tp = stores.thumbprint_of(before.trees[beta.directory][stores.CERT])
    async with running(profile, clock) as (app, pilot):
        await move_to(pilot, app, "Beta Root")
        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "confirm-delete"
        assert focused_id(app) == "cancel"
        await press(pilot, "y")

        after = stores.snapshot(data_dir)
        stores.assert_consistent(after)
        assert sorted(after.rows) == ["alpha root", "gamma root"]
        assert beta.directory not in after.trees
        archived = [files for name, files in after.archives.items() if beta.directory in name]
        assert len(archived) == 1
        assert archived[0][stores.KEY] == before.trees[beta.directory][stores.KEY]
        assert after.absent_from_trust(beta_tp)
        assert default_ids(profile) == [ids["Alpha Root"]]
        assert row_names(app) == ["Alpha Root", "Gamma Root"]


@pytest.mark.asyncio
async def test_deleting_the_default_names_the_new_default_and_the_database_agrees(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    async with running(profile, clock) as (app, pilot):
        assert selected_name(app) == "Alpha Root"
        await press(pilot, "x")
        words = " ".join(visible_text(app).split())
        found = re.search(r'It is the default CA: "([^"]+)" becomes the default\.', words)
        assert found is not None, words
        promoted = found[1]
        assert promoted in NAMES
        assert promoted != "Alpha Root"
        await press(pilot, "y")

        assert default_ids(profile) == [ids[promoted]]
        assert ids["Alpha Root"] not in [r["id"] for r in ca_rows(profile)]
        assert status_shows(app, f"default: {promoted}")
        assert cell_text(app, ids[promoted], "default") == "YES"
        assert selected_name(app) == promoted


@pytest.mark.asyncio
async def test_deleting_the_last_ca_says_no_default_remains(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Alpha Root")
    async with running(profile, clock) as (app, pilot):
        await press(pilot, "x")
        assert shows(app, "It is the default and the last CA: no default remains.")
        await press(pilot, "y")
        assert ca_rows(profile) == []
        assert row_names(app) == []
        assert status_shows(app, "default: none")
        assert app.main.query_one("#create-default").disabled  # forced again


# --- filter --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_typing_in_the_filter_narrows_the_rows_and_enter_returns_to_the_table(
    profile: Profile, clock: FixedClock
) -> None:
    ids = seed(profile, clock, *NAMES)
    async with running(profile, clock) as (app, pilot):
        await press(pilot, "slash")
        assert focused_id(app) == "filter"
        await type_text(pilot, "gam")
        assert row_names(app) == ["Gamma Root"]
        await press(pilot, "enter")
        assert app.focused is table(app)
        assert row_names(app) == ["Gamma Root"]
        assert selected_name(app) == "Gamma Root"
        # An action acts on the filtered row.
        await press(pilot, "d")
        assert default_ids(profile) == [ids["Gamma Root"]]
        assert row_names(app) == ["Gamma Root"]  # the reload keeps the filter


@pytest.mark.asyncio
async def test_emptying_the_filter_brings_every_row_back_and_escape_returns_to_the_table(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, *NAMES)
    async with running(profile, clock) as (app, pilot):
        await press(pilot, "slash")
        await type_text(pilot, "zzz")
        assert row_names(app) == []
        assert app.main.check_action("delete", ()) is None  # nothing selected
        await replace_text(pilot, "")
        assert row_names(app) == list(NAMES)
        await press(pilot, "escape")
        assert app.focused is table(app)


# --- export refused ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_export_is_disabled_with_the_reason_when_security_conf_forbids_downloads(
    profile: Profile, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(profile, clock, *NAMES)
    monkeypatch.chdir(tmp_path)  # where the export dialog would suggest writing
    async with running(profile, clock) as (app, pilot):
        assert app.main.check_action("export", ()) is None
        assert status_shows(
            app, f"export: disabled (ALLOW_CA_DOWNLOAD=no in {profile.security_conf})"
        )
        await press(pilot, "e")
        assert on_main(app)
        assert not isinstance(app.screen, ExportScreen)
        assert list(tmp_path.iterdir()) == [tmp_path / "data"]
