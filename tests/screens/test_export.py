"""The export dialog with downloads allowed: what is written, how, and never over a file unasked.

(Downloads forbidden by security.conf is in test_main: the action is disabled there.)
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from textual.widgets import Input

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.screens.dialogs import ConfirmModal, ErrorModal
from hermes_ca_tui.screens.export import ExportScreen
from tests.core import stores
from tests.core.lifecycle import audit_records
from tests.support import FixedClock
from tests.tui_support import (
    AppPilot,
    focused_id,
    move_to,
    on_main,
    press,
    replace_text,
    running,
    seed,
    shows,
    squash,
    type_text,
    visible_text,
    widget_text,
)


def tree_file(data_dir: Path, name: str, member: str) -> bytes:
    state = stores.snapshot(data_dir)
    return state.trees[state.rows[name.lower()].directory][member]


async def open_export(pilot: AppPilot, app: HermesCaApp, name: str) -> ExportScreen:
    await move_to(pilot, app, name)
    assert app.main.check_action("export", ()) is True
    await press(pilot, "e")
    assert isinstance(app.screen, ExportScreen)
    assert focused_id(app) == "export-what"
    return app.screen


async def choose_key_encrypted(pilot: AppPilot, out: Path, first: str, second: str) -> None:
    """What: private key; File: ``out``; tick Encrypt; both passphrases; Enter."""
    await pilot.press("enter", "down", "enter")  # What -> Private key
    await pilot.press("tab", "tab")  # Format (PEM), File
    assert focused_id(pilot.app) == "export-path"
    await replace_text(pilot, str(out))
    await pilot.press("tab")
    assert focused_id(pilot.app) == "export-encrypt"
    await pilot.press("space")
    await pilot.press("tab")
    await type_text(pilot, first)
    await pilot.press("tab")
    await type_text(pilot, second)
    await press(pilot, "enter")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.asyncio
async def test_exporting_the_key_encrypted_writes_a_0600_file_only_the_passphrase_opens(
    profile: Profile,
    data_dir: Path,
    tmp_path: Path,
    clock: FixedClock,
    allow_downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(profile, clock, "Alpha Root", "Beta Root")
    out = tmp_path / "beta.key"
    async with running(profile, clock) as (app, pilot):
        assert squash("export: allowed") in squash(widget_text(app.main.query_one("#status")))
        screen = await open_export(pilot, app, "Beta Root")
        assert squash(widget_text(screen.query_one(".dialog-title"))) == squash(
            "Export from Beta Root"
        )
        await choose_key_encrypted(pilot, out, "correct horse", "correct horse")
        assert on_main(app)

    assert out.exists() and mode(out) == 0o600
    data = out.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = serialization.load_pem_private_key(data, password=b"correct horse")
    ca_key = serialization.load_pem_private_key(
        tree_file(data_dir, "Beta Root", stores.KEY), password=None
    )
    assert key.public_key().public_numbers() == ca_key.public_key().public_numbers()  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, password=None)
    with pytest.raises(ValueError, match=r"(?i)password|decrypt"):
        serialization.load_pem_private_key(data, password=b"wrong horse")
    record = audit_records(profile)[-1]
    assert record["operation"] == "export-key"
    assert record["ca"]["name"] == "Beta Root"
    assert record["details"]["encrypted"] is True


@pytest.mark.asyncio
async def test_exporting_the_certificate_writes_the_tree_certificate_0600(
    profile: Profile,
    data_dir: Path,
    tmp_path: Path,
    clock: FixedClock,
    allow_downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(profile, clock, "Alpha Root")
    async with running(profile, clock) as (app, pilot):
        await open_export(pilot, app, "Alpha Root")
        await pilot.press("tab", "tab")
        # The suggested file: the web page's name, in the current folder.
        suggested = app.screen.query_one("#export-path", Input).value
        assert suggested == str(tmp_path / "AlphaRoot_cacert.pem")
        await press(pilot, "enter")
        assert on_main(app)
    out = tmp_path / "AlphaRoot_cacert.pem"
    assert mode(out) == 0o600
    written = x509.load_pem_x509_certificate(out.read_bytes())
    assert written == x509.load_pem_x509_certificate(tree_file(data_dir, "Alpha Root", stores.CERT))


@pytest.mark.asyncio
async def test_passphrases_that_differ_are_refused_in_the_dialog_and_nothing_is_written(
    profile: Profile,
    tmp_path: Path,
    clock: FixedClock,
    allow_downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(profile, clock, "Alpha Root")
    out = tmp_path / "alpha.key"
    async with running(profile, clock) as (app, pilot):
        await open_export(pilot, app, "Alpha Root")
        await choose_key_encrypted(pilot, out, "one", "two")
        assert isinstance(app.screen, ExportScreen)
        assert focused_id(app) == "export-pass2"
        assert squash(widget_text(app.screen.query_one("#field-export-pass .field-message"))) == (
            squash("The two passphrases differ.")
        )
        await press(pilot, "escape")
        assert on_main(app)
    assert not out.exists()


@pytest.mark.asyncio
async def test_an_existing_file_is_replaced_only_after_confirmation(
    profile: Profile,
    data_dir: Path,
    tmp_path: Path,
    clock: FixedClock,
    allow_downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(profile, clock, "Alpha Root")
    out = tmp_path / "[bold]x.pem"  # a path is never read as markup
    out.write_bytes(b"keep me\n")
    async with running(profile, clock) as (app, pilot):
        await open_export(pilot, app, "Alpha Root")
        await pilot.press("tab", "tab")
        await replace_text(pilot, str(out))
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "confirm-overwrite"
        assert shows(app, f"{out} exists"), visible_text(app)
        assert focused_id(app) == "cancel"
        await press(pilot, "n")
        assert on_main(app)
        assert out.read_bytes() == b"keep me\n"

        await open_export(pilot, app, "Alpha Root")
        await pilot.press("tab", "tab")
        await replace_text(pilot, str(out))
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmModal)
        await press(pilot, "y")
        assert on_main(app)
    assert out.read_bytes() == tree_file(data_dir, "Alpha Root", stores.CERT)
    assert mode(out) == 0o600


@pytest.mark.asyncio
async def test_security_conf_is_read_again_when_the_export_runs(
    profile: Profile,
    tmp_path: Path,
    clock: FixedClock,
    allow_downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(profile, clock, "Alpha Root")
    out = tmp_path / "alpha.key"
    async with running(profile, clock) as (app, pilot):
        await open_export(pilot, app, "Alpha Root")
        allow_downloads.write_text("ALLOW_CA_DOWNLOAD=no\n")  # switched off meanwhile
        await choose_key_encrypted(pilot, out, "pw", "pw")
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.described.code == "DOWNLOADS_DISABLED"
        assert shows(app, "(DOWNLOADS_DISABLED, m=45)")
        assert shows(
            app,
            f"CA file downloads are disabled. Set ALLOW_CA_DOWNLOAD=yes in {allow_downloads} "
            "to enable.",
        )
        await press(pilot, "escape")
        await press(pilot, "f5")
        assert app.main.check_action("export", ()) is None
    assert not out.exists()
    assert audit_records(profile)[-1]["outcome"] == "refused:DOWNLOADS_DISABLED"


@pytest.mark.asyncio
async def test_a_folder_that_does_not_exist_is_refused_under_the_file_field(
    profile: Profile,
    tmp_path: Path,
    clock: FixedClock,
    allow_downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed(profile, clock, "Alpha Root")
    out = tmp_path / "missing" / "a.pem"
    async with running(profile, clock) as (app, pilot):
        screen = await open_export(pilot, app, "Alpha Root")
        await pilot.press("tab", "tab")
        await replace_text(pilot, str(out))
        await press(pilot, "enter")
        assert app.screen is screen
        message = widget_text(screen.query_one("#field-export-path .field-message"))
        assert squash(f"The folder {out.parent} does not exist.") == squash(message)
        assert focused_id(app) == "export-path"
    assert not out.parent.exists()
