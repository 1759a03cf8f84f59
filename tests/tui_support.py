"""Helpers for the dashboard's Pilot tests: start the app on a data folder, wait, read it.

The app always runs against the real core on the test's embedded data folder. Waiting is
done on the app's workers and message queue (never with sleeps); the screen is read from
what Textual actually rendered, so a string parsed as markup would show up as a failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Collapsible, Input, Static
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile, open_service
from hermes_ca_tui.settings import TuiSettings
from hermes_ca_tui.widgets.ca_table import CaTable
from hermes_ca_tui.widgets.form_field import FormField
from hermes_ca_tui.widgets.forms import CreateForm, ImportForm
from tests.support import FixedClock, build_cert, create_request, rsa_key

SIZE = (100, 34)
"""The standard terminal size of the Pilot tests."""

AppPilot = Pilot[int]

_BUSY = (WorkerState.PENDING, WorkerState.RUNNING)


def seed(profile: Profile, clock: FixedClock, *names: str, **overrides: object) -> dict[str, int]:
    """Create CAs through the core before the app starts (2048-bit); name -> id.

    The first one becomes the default, as the core rules.
    """
    service = open_service(profile, clock=clock)
    try:
        return {
            name: service.create(create_request(name, **overrides)).summary.id for name in names
        }
    finally:
        service.close()


def make_app(
    profile: Profile, clock: FixedClock, settings: TuiSettings | None = None
) -> HermesCaApp:
    """The dashboard on ``profile``, with the fixed clock, normal (not VT) theme."""
    return HermesCaApp(
        lambda: open_service(profile, clock=clock),
        label=str(profile.label),
        settings=settings,
        vt=False,
    )


async def settle(pilot: AppPilot) -> None:
    """Wait until no worker runs and every message they posted has been handled.

    A finished worker may post a message whose handler starts another worker (a change
    reloads the table), so this waits round after round until a round starts nothing.
    """
    app = pilot.app
    for _ in range(100):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive reload replaced an older one
        except WorkerFailed:
            pass  # the app's own handler shows it: that is what the tests look at
        await pilot.pause()
        if not any(worker.state in _BUSY for worker in app.workers):
            await pilot.pause()
            if not any(worker.state in _BUSY for worker in app.workers):
                return
    raise AssertionError("the app never became idle")


@contextlib.asynccontextmanager
async def running(
    profile: Profile,
    clock: FixedClock,
    settings: TuiSettings | None = None,
    *,
    size: tuple[int, int] = SIZE,
) -> AsyncIterator[tuple[HermesCaApp, AppPilot]]:
    """Run the dashboard headless; yields once the stores are open and the table loaded."""
    app = make_app(profile, clock, settings)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.service is not None, "the stores did not open"
        yield app, pilot


async def press(pilot: AppPilot, *keys: str) -> None:
    """Press keys, then wait for whatever they started."""
    await pilot.press(*keys)
    await settle(pilot)


async def type_text(pilot: AppPilot, text: str) -> None:
    """Type a string into the focused widget: one key event per character, as a terminal sends.

    ``pilot.press`` waits for the app to go idle after every key (about 60 ms each); a
    terminal sends a typed or pasted string as a burst, so the events are queued in order
    and the app is waited for once.
    """
    app = pilot.app
    for character in text:
        event = events.Key(_character_to_key(character), character)
        event.set_sender(app)
        app.post_message(event)
    await pilot.pause()


async def replace_text(pilot: AppPilot, text: str) -> None:
    """Replace the focused input's value by keys: Home, Ctrl+K (delete to the end), type."""
    await pilot.press("home", "ctrl+k")
    await type_text(pilot, text)


# --- forms ---------------------------------------------------------------------------

ORDER = ["import_name", "cert_file", "key_file", "pkcs12_file", "passphrase"]


async def submit_import(
    pilot: AppPilot,
    name: str,
    cert: str = "",
    key: str = "",
    pkcs12: str = "",
    passphrase: str = "",
) -> None:
    """``i``, type every field (Tab between), Enter in the passphrase field; wait."""
    app = pilot.app
    assert isinstance(app, HermesCaApp)
    await press(pilot, "i")
    assert not panel(app, "import").collapsed
    values = dict(zip(ORDER, [name, cert, key, pkcs12, passphrase], strict=True))
    for n, field in enumerate(ORDER):
        if n:
            await pilot.press("tab")
        assert focused_id(app) == field
        await type_text(pilot, values[field])
    await press(pilot, "enter")


# --- reading the screen ----------------------------------------------------------------


def screen_text(app: HermesCaApp, widget: Widget | None = None) -> str:
    """The characters the screen shows, line by line, as Textual rendered them.

    Args:
        app: The running app.
        widget: Only what lies inside this widget's content region (no border or
            padding); by default the whole screen.
    """
    # The compositor holds what was last laid out for the terminal: the screen's real
    # characters (Textual has no public API for them short of an SVG export).
    strips = app.screen._compositor.render_strips()
    if widget is None:
        return "\n".join(strip.text.rstrip() for strip in strips)
    region = widget.content_region
    return "\n".join(
        strip.crop(region.x, region.right).text.rstrip()
        for strip in strips[region.y : region.bottom]
    )


def visible_text(app: HermesCaApp) -> str:
    """What the operator reads: the dialog of a modal screen, or the whole screen."""
    dialogs = app.screen.query(".dialog")
    return screen_text(app, dialogs.first() if dialogs else None)


def squash(text: str) -> str:
    """``text`` without any whitespace (a long line may wrap anywhere on the screen)."""
    return "".join(text.split())


def shows(app: HermesCaApp, text: str) -> bool:
    """Whether the screen (or the open dialog) shows ``text``, wherever it wrapped."""
    return squash(text) in squash(visible_text(app))


def widget_text(widget: Widget) -> str:
    """The rendered lines of one widget."""
    lines = widget.render_lines(widget.region.reset_offset)
    return "\n".join(line.text.rstrip() for line in lines)


def on_main(app: HermesCaApp) -> bool:
    """Whether the main screen is in front (no modal, no other screen)."""
    return app.screen is app.main


def status_text(app: HermesCaApp) -> str:
    """The status line above the forms, as shown."""
    return widget_text(app.main.query_one("#status", Static))


# --- the main screen's parts -----------------------------------------------------------


def table(app: HermesCaApp) -> CaTable:
    """The CA table."""
    return app.main.table


def row_names(app: HermesCaApp) -> list[str]:
    """The names in the table, top to bottom."""
    t = table(app)
    return [t.cas[int(str(row.key.value))].name for row in t.ordered_rows]


def row_ids(app: HermesCaApp) -> list[int]:
    """The CA ids (row keys) in the table, top to bottom."""
    return [int(str(row.key.value)) for row in table(app).ordered_rows]


def selected_name(app: HermesCaApp) -> str | None:
    """The name of the CA under the cursor."""
    ca = table(app).selected()
    return ca.name if ca is not None else None


def cell_text(app: HermesCaApp, ca_id: int, column: str) -> str:
    """One cell of a CA's row, as plain text."""
    return table(app).get_cell(str(ca_id), column).plain


async def move_to(pilot: AppPilot, app: HermesCaApp, name: str) -> None:
    """Put the cursor on a CA with the arrow keys (from the top of the table)."""
    names = row_names(app)
    assert name in names, names
    assert app.focused is table(app)
    await pilot.press("home", *["down"] * names.index(name))
    assert selected_name(app) == name


def create_form(app: HermesCaApp) -> CreateForm:
    """The Create Internal CA form."""
    return app.main.query_one("#create-form", CreateForm)


def import_form(app: HermesCaApp) -> ImportForm:
    """The Import External CA form."""
    return app.main.query_one("#import-form", ImportForm)


def panel(app: HermesCaApp, name: str) -> Collapsible:
    """``create`` or ``import`` collapsible."""
    return app.main.query_one(f"#{name}-panel", Collapsible)


def field_message(form: CreateForm | ImportForm, name: str) -> str:
    """What the line under a form field shows (error or hint), as rendered."""
    return widget_text(form.field(name).message)


def field_errors(form: CreateForm | ImportForm) -> dict[str, str]:
    """Every field showing an error: input id -> rendered message."""
    out: dict[str, str] = {}
    for field in form.query(FormField):
        if field.has_error and field.control.id is not None:
            out[field.control.id] = widget_text(field.message)
    return out


def input_value(form: CreateForm | ImportForm, name: str) -> str:
    """A text field's value."""
    return form.query_one(f"#{name}", Input).value


def focused_id(app: App[object] | App[int]) -> str | None:
    """The id of the focused widget."""
    return app.focused.id if app.focused is not None else None


# --- import material -------------------------------------------------------------------


def external_root(
    folder: Path,
    cn: str = "External Root",
    *,
    index: int = 1,
    clock: FixedClock | None = None,
    expired: bool = False,
) -> tuple[Path, Path, x509.Certificate]:
    """A self-signed RSA CA certificate and its key as PEM files; (cert, key, cert)."""
    now = (clock or FixedClock()).now
    key = rsa_key(2048, index)
    if expired:
        start, end = now - timedelta(days=3000), now - timedelta(days=30)
    else:
        start, end = now - timedelta(days=1), now + timedelta(days=3650)
    cert = build_cert(cn, key, not_before=start, not_after=end)
    folder.mkdir(parents=True, exist_ok=True)
    cert_file = folder / f"{cn.replace(' ', '_')}.pem"
    key_file = folder / f"{cn.replace(' ', '_')}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, cert


def write_pkcs12(
    path: Path, cert: x509.Certificate, key: rsa.RSAPrivateKey, passphrase: bytes
) -> Path:
    """A PKCS#12 bundle of a certificate and its key, encrypted with ``passphrase``."""
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"bundle", key, cert, None, serialization.BestAvailableEncryption(passphrase)
        )
    )
    return path
