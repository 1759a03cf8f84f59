"""The dashboard in a real terminal: tmux with ``TERM=linux``, driven with keys.

Every screen the app draws is captured as plain text (``tmux capture-pane -p``) and
checked against the console allow-list of :mod:`tests.console` (printable ASCII, single
and double box drawing, ``█▀▄▌▐░▒▓``, ``▲▼``).

The app is started the way an operator starts it, ``python -m hermes_ca_tui --data-dir
DIR``, inside a detached tmux session on its own socket (killed afterwards). Every step
waits for what it should show (polling the pane with a deadline), never for a fixed time.
After ``q`` the app must exit with status 0 and leave the terminal empty: Textual draws
on the terminal, so anything else written there (a warning, a traceback) would be left on
the screen once the UI is gone. Logs go to the data folder's ``hermes-ca-tui.log``.

A control run with ``TERM=xterm-256color`` and no ``--vt`` checks that the capture would
see unsafe glyphs (the normal theme draws ``▶``), so the allow-list check can fail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import open_service
from hermes_ca_tui.vt import VT_THEME
from tests.console import unsafe
from tests.fixtures.sample import Sample, build_sample

WIDTH, HEIGHT = 100, 30
DEADLINE = 30.0
"""Seconds a step may take (key generation is not involved; the first frame is slowest)."""

TMUX = shutil.which("tmux")


def clean_environment() -> dict[str, str]:
    """This process's environment without a terminal size.

    GNU readline (loaded under pytest) exports ``COLUMNS=80``/``LINES=24`` at the C level,
    where ``os.environ`` does not show them but children inherit them; Textual would then
    draw 80x24 in a 100x30 pane. An explicit ``env=`` passes ``os.environ`` only.
    """
    env = dict(os.environ)
    for name in ("COLUMNS", "LINES"):
        env.pop(name, None)
    return env


class Terminal:
    """The app in a detached tmux session on a private socket.

    The app runs under ``sh -c '"$@"; echo $? > STATUS'``: tmux 3.3a sometimes marks the
    pane dead without ever reaping the process (``pane_dead_status`` stays empty and the
    app lingers as a zombie), so the exit status comes from the shell, which always waits.
    """

    def __init__(self, socket: str, status_file: Path) -> None:
        self.socket = socket
        self.status_file = status_file
        self.screens: list[tuple[str, str]] = []
        """Every capture: (step, text)."""

    def tmux(self, *args: str) -> str:
        """Run a tmux command on our socket; its stdout."""
        assert TMUX is not None, "tmux is needed (.ci/run installs it)"
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=clean_environment(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: list[str], cwd: Path) -> None:
        """Start ``command`` (an argv list) in a WIDTHxHEIGHT pane that stays after exit."""
        wrapped = ["sh", "-c", '"$@"; echo $? > "$0"', str(self.status_file), *command]
        self.tmux(
            "new-session",
            "-d",
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "-c",
            str(cwd),
            shlex.join(wrapped),
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
        )

    def capture(self) -> str:
        """The pane as plain text."""
        return self.tmux("capture-pane", "-p")

    def exit_status(self) -> int | None:
        """The app's exit status once it has exited, else ``None``."""
        try:
            text = self.status_file.read_text()
        except FileNotFoundError:
            return None
        return int(text) if text.endswith("\n") else None  # complete once the newline is in

    def wait_for(self, step: str, condition: Callable[[str], bool]) -> str:
        """Poll the pane until ``condition`` holds; record and return the screen."""
        deadline = time.monotonic() + DEADLINE
        screen = self.capture()
        while not condition(screen):
            status = self.exit_status()
            if status is not None:
                pytest.fail(f"{step}: the app exited with status {status}:\n{self.after_exit()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{step}: the screen never showed what was expected:\n{screen}")
            time.sleep(0.05)  # polling interval, not a synchronisation
            screen = self.capture()
        self.screens.append((step, screen))
        return screen

    def keys(self, *keys: str) -> None:
        """Send tmux key names (``Tab``, ``Escape``, ``Down``, ``c`` ...)."""
        self.tmux("send-keys", "-t", "0", *keys)

    def text(self, text: str) -> None:
        """Type ``text`` literally."""
        self.tmux("send-keys", "-t", "0", "-l", text)

    def wait_exit(self) -> int:
        """Wait until the app has exited; its exit status."""
        deadline = time.monotonic() + DEADLINE
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                self.fail_hung("the app did not exit")
            time.sleep(0.05)
        return status

    def fail_hung(self, what: str) -> None:
        """Fail with the app's thread stacks (SIGABRT makes faulthandler print them)."""
        screen = self.capture()
        shell = self.tmux("display-message", "-p", "#{pane_pid}").strip()
        children = Path(f"/proc/{shell}/task/{shell}/children")
        for pid in children.read_text().split() if children.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGABRT)
        deadline = time.monotonic() + 10
        while self.exit_status() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        pytest.fail(f"{what}; screen:\n{screen}\nafter SIGABRT:\n{self.after_exit()}")

    def after_exit(self) -> str:
        """What the terminal holds once the app left (all history), minus tmux's note."""
        text = self.tmux("capture-pane", "-p", "-S", "-")
        return "\n".join(
            line for line in text.splitlines() if not line.startswith("Pane is dead")
        ).strip()


@pytest.fixture
def sample(tmp_path: Path) -> Sample:
    """Three CAs from the committed test keys."""
    return build_sample(tmp_path / "sample")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A tmux server of our own, killed afterwards."""
    socket = f"hermes-ca-tui-test-{os.getpid()}-{secrets.token_hex(4)}"
    term = Terminal(socket, tmp_path / "exit-status")
    try:
        yield term
    finally:
        with contextlib.suppress(RuntimeError):  # never started, or already gone
            socket_path = Path(term.tmux("display-message", "-p", "#{socket_path}").strip())
            term.tmux("kill-server")
            socket_path.unlink(missing_ok=True)  # tmux 3.3a leaves it behind


def app_command(sample: Sample, term: str, *flags: str) -> list[str]:
    """The operator's command line, under ``TERM=term`` (no COLORTERM)."""
    assert sample.profile.data_dir is not None
    return [
        "env",
        "-u",
        "COLORTERM",
        "-u",
        "NO_COLOR",
        "-u",
        "COLUMNS",
        "-u",
        "LINES",
        f"TERM={term}",
        "PYTHONFAULTHANDLER=1",  # a hung app prints its threads' stacks on SIGABRT
        sys.executable,
        "-m",
        "hermes_ca_tui",
        "--data-dir",
        str(sample.profile.data_dir),
        *flags,
    ]


def table_shown(screen: str) -> bool:
    """The first frame with data: every sample CA has its row."""
    return all(
        f" {name} " in screen for name in ("Acme Root CA", "Branch Office CA", "Legacy Partner CA")
    )


def drive(terminal: Terminal) -> None:
    """Every screen the brief names: forms, select, arrows, dialogs, help, doctor, toast."""
    t = terminal
    t.keys("c")
    t.wait_for("create form", lambda s: "Common name" in s)
    t.text("Test CA")
    t.wait_for("common name typed", lambda s: "Test CA" in s)
    t.keys("Tab", "Tab")  # leaving an empty Organisation shows its error
    t.wait_for("field error", lambda s: "cannot be empty" in s)
    t.keys("Tab", "Tab", "Tab")  # State, Country, Key size
    t.keys("Enter")  # open the key size list
    t.wait_for("select open", lambda s: "2048-bit" in s and "▲" in s)
    t.keys("Escape")
    t.wait_for("select closed", lambda s: "▲" not in s)
    t.keys("Escape")
    t.wait_for("form closed", lambda s: "Common name" not in s and table_shown(s))
    t.keys("Down", "Down", "Up", "Down")
    t.keys("r")
    t.wait_for("renew dialog", lambda s: 'Renew "Legacy Partner CA"?' in s)
    t.keys("n")
    t.wait_for("renew cancelled", lambda s: "Renew (y)" not in s)
    t.keys("Up", "d")
    t.wait_for("default changed, toast", lambda s: "default: Branch Office CA" in s and "Done" in s)
    t.keys("?")
    t.wait_for("help", lambda s: "Cursor up" in s)
    t.keys("Escape")
    t.wait_for("help closed", lambda s: "Cursor up" not in s)
    t.keys("Enter")
    t.wait_for("details", lambda s: "Certificate Authority" in s and "Esc: back" in s)
    t.keys("End")  # scroll the details to the fingerprints (a scrollbar shows)
    t.wait_for("details scrolled", lambda s: "SHA-1 fingerprint" in s)
    t.keys("Escape")
    t.wait_for("details closed", lambda s: "Esc: back" not in s)
    t.keys("o")
    t.wait_for("doctor", lambda s: "consistent across the three stores" in s)
    t.keys("Escape")
    t.wait_for("doctor closed", lambda s: "Create Internal CA" in s and table_shown(s))
    t.keys("q")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("term", "flags"),
    [("linux", ()), ("xterm-256color", ("--vt", "--no-mouse"))],
    ids=["TERM=linux", "xterm-with-vt-flag"],
)
def test_console_shows_only_console_glyphs(
    terminal: Terminal, sample: Sample, tmp_path: Path, term: str, flags: tuple[str, ...]
) -> None:
    """VT mode (detected from TERM=linux, or --vt) draws only what a console font has."""
    terminal.start(app_command(sample, term, *flags), cwd=tmp_path)
    first = terminal.wait_for("first frame", table_shown)
    # VT mode without being asked (TERM=linux) or because asked (--vt): ASCII symbols.
    assert "> Create Internal CA" in first and "> Import External CA" in first
    drive(terminal)

    assert terminal.wait_exit() == 0
    assert terminal.after_exit() == "", "something was written outside the UI"
    bad = {step: unsafe(screen) for step, screen in terminal.screens if unsafe(screen)}
    assert bad == {}, "glyphs a console font lacks:\n" + "\n".join(
        f"{step}: {' '.join(f'{c} U+{ord(c):04X}' for c in chars)}" for step, chars in bad.items()
    )
    assert sample.profile.data_dir is not None
    log = sample.profile.data_dir / "hermes-ca-tui.log"
    assert log.exists(), "the dashboard logs to the data folder"
    assert "Traceback" not in log.read_text(encoding="utf-8")


@pytest.mark.slow
def test_normal_terminal_capture_sees_unicode(
    terminal: Terminal, sample: Sample, tmp_path: Path
) -> None:
    """Control: without VT mode the app draws ``▶``, and the capture shows it."""
    terminal.start(app_command(sample, "xterm-256color"), cwd=tmp_path)
    first = terminal.wait_for("first frame", table_shown)
    assert "▶ Create Internal CA" in first
    assert "▶" in unsafe(first)
    terminal.keys("q")
    assert terminal.wait_exit() == 0
    assert terminal.after_exit() == ""


@pytest.mark.asyncio
async def test_term_linux_turns_vt_mode_on_without_the_flag(
    sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``vt`` unset (the default "auto"): TERM=linux alone selects the VT theme and class."""
    monkeypatch.setenv("TERM", "linux")
    app = HermesCaApp(lambda: open_service(sample.profile), label=sample.profile.label)
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        assert app.vt
        assert app.has_class("-vt")
        assert app.theme == VT_THEME.name
