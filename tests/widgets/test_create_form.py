"""The Create Internal CA form, driven by keys against the real core.

Every test reads the stores afterwards: a CA the form created is in the database, on
disk and trusted in CipherMail; a refused form wrote nothing at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from textual.widgets import Checkbox, Input, Select

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile
from tests.core import stores
from tests.core.lifecycle import assert_unchanged, default_ids, snapshot
from tests.support import FixedClock
from tests.tui_support import (
    AppPilot,
    create_form,
    field_errors,
    field_message,
    focused_id,
    input_value,
    on_main,
    panel,
    press,
    replace_text,
    row_names,
    running,
    seed,
    selected_name,
    squash,
    table,
    type_text,
)

GOOD = {
    "common_name": "Alpha Root",
    "organization": "Acme, Inc",
    "unit": "IT_Sec",
    "state": "Bavaria",
    "country": "de",
}
FIELDS = list(GOOD)


async def fill(pilot: AppPilot, values: dict[str, str]) -> None:
    """From the first field: type each text field, Tab to the next."""
    for n, name in enumerate(FIELDS):
        if n:
            await pilot.press("tab")
        assert focused_id(pilot.app) == name
        await type_text(pilot, values[name])


async def choose_2048(pilot: AppPilot) -> None:
    """From the country field: Tab to the key size, open it, pick 2048-bit."""
    await pilot.press("tab")
    assert focused_id(pilot.app) == "key_size"
    await pilot.press("enter", "down", "enter")


async def open_create(pilot: AppPilot, app: HermesCaApp) -> None:
    await press(pilot, "c")
    assert not panel(app, "create").collapsed
    assert focused_id(app) == "common_name"


def cert_of(data_dir: Path, directory: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((data_dir / "CA" / directory / stores.CERT).read_bytes())


def stores_hold(data_dir: Path, name: str) -> stores.Row:
    """The CA is in all three stores (row, tree with key, trusted) and they agree."""
    state = stores.snapshot(data_dir)
    stores.assert_consistent(state)
    row = state.rows[name.lower()]
    tree = state.trees[row.directory]
    assert state.trusted(stores.thumbprint_of(tree[stores.CERT]))
    return row


@pytest.mark.asyncio
async def test_c_opens_the_form_on_its_first_field_and_escape_leaves_it_without_messages(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        assert panel(app, "create").collapsed and panel(app, "import").collapsed
        await open_create(pilot, app)
        await press(pilot, "escape")
        assert panel(app, "create").collapsed
        assert app.focused is table(app)
        # Leaving the empty form is no answer to check: it opens again without messages.
        await open_create(pilot, app)
        assert field_errors(create_form(app)) == {}


@pytest.mark.asyncio
async def test_create_with_good_input_writes_all_three_stores_and_resets_the_form(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        await open_create(pilot, app)
        await fill(pilot, GOOD)
        await choose_2048(pilot)
        # Validity: 1 year (the options run 5, 4, 3, 2, 1).
        await pilot.press("tab", "enter", "down", "down", "down", "down", "enter")
        assert app.screen.query_one("#years", Select).value == 1
        # Back to a text field: Enter there submits the whole form.
        await pilot.press("shift+tab", "shift+tab")
        assert focused_id(app) == "country"
        await press(pilot, "enter")

        row = stores_hold(data_dir, "Alpha Root")
        assert row.default2 != 1  # Zeta Root stays the default: the box was not ticked
        cert = cert_of(data_dir, row.directory)
        subject = {a.oid: a.value for a in cert.subject}
        assert subject[NameOID.COMMON_NAME] == "Alpha Root"
        assert subject[NameOID.ORGANIZATION_NAME] == "Acme, Inc"
        assert subject[NameOID.ORGANIZATIONAL_UNIT_NAME] == "IT_Sec"
        assert subject[NameOID.STATE_OR_PROVINCE_NAME] == "Bavaria"
        assert subject[NameOID.COUNTRY_NAME] == "DE"  # upper-cased by the core
        key = serialization.load_pem_private_key(
            (data_dir / "CA" / row.directory / stores.KEY).read_bytes(), password=None
        )
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
        assert row.expires.startswith("2027-12-")  # one year from the clock's 2026-12-03

        # The form collapsed and cleared; the cursor is on the new CA, in the table.
        assert panel(app, "create").collapsed
        form = create_form(app)
        assert all(input_value(form, name) == "" for name in FIELDS)
        assert field_errors(form) == {}
        assert app.focused is table(app)
        assert row_names(app) == ["Alpha Root", "Zeta Root"]
        assert selected_name(app) == "Alpha Root"


@pytest.mark.asyncio
async def test_make_default_is_forced_ticked_and_disabled_when_no_default_exists(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    async with running(profile, clock) as (app, pilot):
        box = app.main.query_one("#create-default", Checkbox)
        assert (box.value, box.disabled) == (True, True)
        assert "required" in str(box.label)
        await open_create(pilot, app)
        await fill(pilot, GOOD)
        await choose_2048(pilot)
        # The disabled box is skipped by Tab: the next stop after validity is the button.
        await pilot.press("tab", "tab")
        assert focused_id(app) == "create-submit"
        await press(pilot, "enter")

        row = stores_hold(data_dir, "Alpha Root")
        assert row.default2 == 1
        assert default_ids(profile) == [row.id]
        # Now there is a default: the box is free again and unticked.
        assert (box.value, box.disabled) == (False, False)


@pytest.mark.asyncio
async def test_ticking_make_default_by_keys_makes_the_new_ca_the_only_default(
    profile: Profile, data_dir: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        box = app.main.query_one("#create-default", Checkbox)
        assert (box.value, box.disabled) == (False, False)
        await open_create(pilot, app)
        await fill(pilot, GOOD)
        await choose_2048(pilot)
        await pilot.press("tab", "tab")
        assert focused_id(app) == "create-default"
        await pilot.press("space")
        assert (box.value, box.disabled) == (True, False)
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        assert focused_id(app) == "country"
        await press(pilot, "enter")

        row = stores_hold(data_dir, "Alpha Root")
        assert default_ids(profile) == [row.id]
        assert box.value is False  # the form's reset unticks it for the next CA


BAD: dict[str, list[tuple[str, str]]] = {
    "common_name": [
        ("", "The CA Common Name cannot be empty."),
        ("   ", "The CA Common Name cannot be empty."),
        ("Acme-Root", "The CA Common Name must contain only letters, numbers, and spaces."),
        ("Acme [bold]Root", "The CA Common Name must contain only letters, numbers, and spaces."),
    ],
    "organization": [
        ("", "The Organization/Company Name cannot be empty."),
        (
            "Acme & Co",
            "The Organization/Company Name contains invalid characters "
            "(letters, numbers, spaces and commas only).",
        ),
    ],
    "unit": [
        ("", "The Organization Unit cannot be empty."),
        (
            "IT-Sec",
            "The Organization Unit contains invalid characters "
            "(letters, numbers, spaces and underscores only).",
        ),
    ],
    "state": [
        ("", "The State/Province cannot be empty."),
        ("NC 27", "The State/Province must contain only letters and spaces."),
    ],
    "country": [
        ("", "The Country Code must be exactly 2 letters (e.g. US, GB, DE)."),
        ("U", "The Country Code must be exactly 2 letters (e.g. US, GB, DE)."),
        ("U1", "The Country Code must contain only letters."),
        ("XX", "XX is not an ISO 3166-1 country code (e.g. US, GB, DE)."),
    ],
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(BAD))
async def test_each_bad_value_shows_the_core_message_under_its_field_and_writes_nothing(
    profile: Profile, clock: FixedClock, name: str
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await open_create(pilot, app)
        cases = BAD[name]
        await fill(pilot, {**GOOD, name: cases[0][0]})
        form = create_form(app)
        for n, (value, message) in enumerate(cases):
            if n:
                # The refused field has the cursor: replace its value and submit from it.
                await replace_text(pilot, value)
            await press(pilot, "enter")
            assert input_value(form, name) == value
            assert list(field_errors(form)) == [name], value
            assert squash(field_message(form, name)) == squash(message), value
            assert focused_id(app) == name
            assert form.query_one(f"#{name}", Input).has_class("-invalid")
            assert not panel(app, "create").collapsed
        assert_unchanged(before, snapshot(profile))
        assert row_names(app) == ["Zeta Root"]


@pytest.mark.asyncio
async def test_submit_checks_every_field_and_focuses_the_first_refused_one(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await open_create(pilot, app)
        await fill(pilot, {**GOOD, "unit": "IT-Sec", "country": "X1"})
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
        assert focused_id(app) == "common_name"
        await press(pilot, "enter")  # submitted from the (valid) first field
        assert list(field_errors(create_form(app))) == ["unit", "country"]
        assert focused_id(app) == "unit"
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_a_field_is_checked_when_it_loses_focus_and_the_message_goes_when_fixed(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        await open_create(pilot, app)
        await type_text(pilot, "Bad-Name")
        await pilot.press("tab")
        form = create_form(app)
        assert list(field_errors(form)) == ["common_name"]
        await pilot.press("shift+tab")
        # select_on_focus: the first key replaces the whole value.
        await type_text(pilot, "Good Name")
        await pilot.press("tab")
        assert input_value(form, "common_name") == "Good Name"
        # Leaving the (empty) organisation field on the way back checked it too.
        assert list(field_errors(form)) == ["organization"]
        assert squash(field_message(form, "common_name")) == squash("Letters, numbers and spaces")


@pytest.mark.asyncio
async def test_a_name_longer_than_64_characters_cannot_be_typed_and_is_refused_if_set(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await open_create(pilot, app)
        await fill(pilot, {**GOOD, "common_name": "A" * 70})
        form = create_form(app)
        assert input_value(form, "common_name") == "A" * 64
        # A value put there by other means (not the keyboard) is still refused by the rule.
        form.query_one("#common_name", Input).value = "B" * 65
        await press(pilot, "enter")
        assert squash(field_message(form, "common_name")) == squash(
            "The CA Common Name must be at most 64 characters."
        )
        assert focused_id(app) == "common_name"
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_a_duplicate_name_shows_the_core_refusal_under_the_name_and_writes_nothing(
    profile: Profile, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await open_create(pilot, app)
        await fill(pilot, {**GOOD, "common_name": "zeta ROOT"})
        await choose_2048(pilot)
        await pilot.press("shift+tab")
        await press(pilot, "enter")

        form = create_form(app)
        assert on_main(app)  # under the field, not in a modal
        assert list(field_errors(form)) == ["common_name"]
        assert squash(field_message(form, "common_name")) == squash(
            "A Certificate Authority with that name already exists."
        )
        assert focused_id(app) == "common_name"
        assert input_value(form, "common_name") == "zeta ROOT"  # kept for correction
        assert_unchanged(before, snapshot(profile))
        assert row_names(app) == ["Zeta Root"]
