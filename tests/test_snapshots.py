"""SVG snapshots of the dashboard: the main screen, both forms with errors, every modal.

Each screen is taken in the normal theme and in VT mode (``vt=True``: the ANSI theme and
the console-safe glyphs). Everything on screen is fixed:

* the terminal is 100x34;
* the clock is :class:`tests.support.FixedClock` and renewals get a fixed serial;
* the CAs are imported from the committed test keys with fixed serials and dates
  (``tests/fixtures/sample.py``), so certificates and fingerprints are the same bytes;
* paths show up on screen (status line, details, doctor, export), so the data lives in a
  fixed folder, ``/tmp/hermes-ca-tui-snapshots``, rebuilt for each test under an
  exclusive lock (two suites running at once take turns) and removed afterwards;
* the cursor does not blink and animations are off (the settings' defaults).

Keys are pressed in ``run_before``, which waits for the app's thread workers after each
key: ``snap_compare``'s own ``press`` does not wait for workers.

Update after a deliberate change with ``pytest tests/test_snapshots.py --snapshot-update``
and look at the result (``snapshot_report.html`` shows the differences of a failed run).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import open_service
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.screens.details import DetailsScreen
from hermes_ca_tui.screens.dialogs import ConfirmModal, ErrorModal
from hermes_ca_tui.screens.doctor import DoctorScreen
from hermes_ca_tui.screens.export import ExportScreen
from hermes_ca_tui.screens.help import HelpScreen
from hermes_ca_tui.screens.main import MainScreen
from hermes_ca_tui.settings import TuiSettings
from hermes_ca_tui.widgets.ca_table import CaTable
from hermes_ca_tui.widgets.form_field import FormField
from tests.console import svg_text, unsafe
from tests.fixtures.sample import Sample, build_sample, fixed_serials
from tests.support import FixedClock

ROOT = Path("/tmp/hermes-ca-tui-snapshots")
LOCK = Path("/tmp/hermes-ca-tui-snapshots.lock")
SIZE = (100, 34)

RunBefore = Callable[[Pilot[int]], Awaitable[None]]


class SnapCompare(Protocol):
    """The ``snap_compare`` fixture of pytest-textual-snapshot."""

    def __call__(
        self,
        app: HermesCaApp,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: RunBefore | None = None,
    ) -> bool: ...


@pytest.fixture(params=[False, True], ids=["normal", "vt"])
def vt(request: pytest.FixtureRequest) -> bool:
    """Both themes."""
    return bool(request.param)


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sample]:
    """The fixed data folder, ours alone for the test."""
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            shutil.rmtree(ROOT, ignore_errors=True)
            built = build_sample(ROOT)
            # The export dialog proposes a file in the working folder.
            monkeypatch.chdir(built.incoming)
            yield built
        finally:
            monkeypatch.undo()  # leave the folder before it goes
            shutil.rmtree(ROOT, ignore_errors=True)
            fcntl.flock(lock, fcntl.LOCK_UN)


def make_app(sample: Sample, vt: bool) -> HermesCaApp:
    """The dashboard on the sample folder, fixed clock and serials, default settings."""
    clock = FixedClock()
    settings = TuiSettings()
    assert not settings.cursor_blink and not settings.animations
    return HermesCaApp(
        lambda: open_service(sample.profile, clock=clock, serials=fixed_serials()),
        label=sample.profile.label,
        settings=settings,
        vt=vt,
    )


async def settle(pilot: Pilot[int]) -> None:
    """Wait until no worker runs and their messages are handled."""
    app = pilot.app
    for _ in range(50):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            return
    raise AssertionError("the app's workers did not finish")


Step = Callable[[HermesCaApp], None]
"""A step that is not a key: filling the focused input (typing key by key is slow)."""


def fill(text: str) -> Step:
    """Put ``text`` into the focused input, as if typed."""

    def step(app: HermesCaApp) -> None:
        focused = app.focused
        assert isinstance(focused, Input), f"no input has the focus: {focused!r}"
        focused.value = text
        focused.cursor_position = len(text)

    return step


def drive(*steps: str | Step, expect: Callable[[HermesCaApp], bool] | None = None) -> RunBefore:
    """A ``run_before``: wait for the table, press each key (or run each step) and wait."""

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, HermesCaApp)
        await settle(pilot)
        table = app.main.query_one(CaTable)
        assert table.row_count == 3, "the sample CAs are not in the table"
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                step(app)
            await settle(pilot)
        if expect is not None:
            assert expect(app), f"unexpected screen: {app.screen!r}"

    return run_before


def on_screen(kind: type, screen_id: str | None = None) -> Callable[[HermesCaApp], bool]:
    """A check that the top screen is of ``kind`` (and has ``screen_id``)."""

    def check(app: HermesCaApp) -> bool:
        return isinstance(app.screen, kind) and (screen_id is None or app.screen.id == screen_id)

    return check


def field_errors(form: str, count: int) -> Callable[[HermesCaApp], bool]:
    """A check that ``count`` fields of a form show an error."""

    def check(app: HermesCaApp) -> bool:
        fields = app.main.query(f"#{form}-form FormField").results(FormField)
        return isinstance(app.screen, MainScreen) and sum(f.has_error for f in fields) == count

    return check


def import_steps(sample: Sample, key_file: Path) -> tuple[str | Step, ...]:
    """Open the Import form, fill name, certificate and key, submit."""
    return (
        "i",
        fill("Partner Bridge CA"),
        "tab",
        fill(str(sample.bridge_cert)),
        "tab",
        fill(str(key_file)),
        "enter",
    )


def test_main_screen(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """The table with an amber (48 days) and a red (expired) badge, issued counts, default."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive(expect=on_screen(MainScreen)),
    )


def test_create_form_errors(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """``c`` then Enter on the empty form: every text field refused, in operator words."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("c", "enter", expect=field_errors("create", 5)),
    )


def test_import_form_errors(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """``i`` then Enter on the empty form: name, certificate and key refused."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("i", "enter", expect=field_errors("import", 3)),
    )


def test_renew_confirmation(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """Renewing the CA that expires soon: both expiries, both serials, the warning."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("down", "r", expect=on_screen(ConfirmModal, "confirm-renew")),
    )


def test_delete_confirmation(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """Deleting the expired CA, which issued nothing: what happens to row, trust, folder."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("down", "down", "x", expect=on_screen(ConfirmModal, "confirm-delete")),
    )


def test_delete_refusal(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """Deleting the default CA, which issued 12 certificates: refused with the reason."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("x", expect=on_screen(ConfirmModal, "refuse-delete")),
    )


def test_import_confirmation_warnings(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """Importing an expired certificate without keyCertSign: two warnings to confirm."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive(
            *import_steps(sample, sample.bridge_key),
            expect=on_screen(ConfirmModal, "confirm-import"),
        ),
    )


def test_error_modal(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """Importing with a key that is not the certificate's: KEY_MISMATCH in a modal."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive(*import_steps(sample, sample.mismatch_key), expect=on_screen(ErrorModal)),
    )


def test_details(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """Enter on the default CA: every fact, fingerprints in numbered groups."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("enter", expect=on_screen(DetailsScreen)),
    )


def test_export_dialog(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """With ALLOW_CA_DOWNLOAD=yes, ``e`` asks what to export and where."""
    sample.profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("e", expect=on_screen(ExportScreen)),
    )


def test_doctor_finding(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """A key file left world-readable: one repairable finding, its path wrapped, not cut."""
    key = CaTree.at(sample.profile.ca_root, "LegacyPartnerCA").key_path
    os.chmod(key, 0o644)
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("o", expect=on_screen(DoctorScreen)),
    )


def test_help(snap_compare: SnapCompare, sample: Sample, vt: bool) -> None:
    """``?``: the key bar's keys first, then the navigation keys."""
    assert snap_compare(
        make_app(sample, vt),
        terminal_size=SIZE,
        run_before=drive("question_mark", expect=on_screen(HelpScreen)),
    )


SNAPSHOT_DIR = Path(__file__).parent / "__snapshots__" / "test_snapshots"
VT_SCREENS = 12
"""Every test above is taken in VT mode once."""


def test_vt_snapshots_hold_only_console_glyphs() -> None:
    """Each accepted VT-mode screen draws only what a Linux console font has."""
    shots = sorted(SNAPSHOT_DIR.glob("*[[]vt[]].svg"))
    assert len(shots) == VT_SCREENS, [s.name for s in shots]
    bad = {
        shot.name: chars
        for shot in shots
        if (chars := unsafe(svg_text(shot.read_text(encoding="utf-8"))))
    }
    assert bad == {}


def test_normal_snapshots_are_not_console_safe() -> None:
    """Control: the normal theme's screens do use other glyphs (round corners, ``▶``)."""
    shots = sorted(SNAPSHOT_DIR.glob("*[[]normal[]].svg"))
    assert len(shots) == VT_SCREENS
    text = svg_text((SNAPSHOT_DIR / "test_main_screen[normal].svg").read_text(encoding="utf-8"))
    assert "▶" in unsafe(text)
