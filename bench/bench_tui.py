"""The dashboard's start-up and responsiveness: first painted table, event-loop stalls.

(a) Start to first painted table with 200 CAs, as a ratio to a bare Textual app whose
only widget is an empty DataTable with the same seven columns. Each repetition is a new
process (``python bench/bench_tui.py --child ours|bare``), so the interpreter start, the
imports (Textual, and for ours the core with ``cryptography``), the app start, opening
the stores, listing the CAs and the first frame all count, as they do for an operator.
The app runs headless at 100x34. "First painted" is detected inside the child: once the
table holds its rows (ours: after the ``CasLoaded`` message filled it; bare: on mount),
``App.call_after_refresh`` runs a callback after the next screen refresh, which checks
that the rendered first data line of the table (``DataTable.render_line``) shows the
first CA's name (bare: that the header line shows "Name"), then writes one line to
stdout. The parent times from just before starting the process to reading that line.
Ours and bare alternate (ours first on even repetitions), after one untimed warm-up
each; medians are compared.

Target: median(ours) / median(bare) <= 2.5. Ours must do more than a bare app (import
the core, open two SQLite databases, read 200 trees and certificates, check trust), but
it paints the frame first and loads in a worker (textual-guide §2.9), so the whole start
must stay within a small multiple of Textual's own.

(b) The worst event-loop stall while a 4096-bit CA is created through the app's create
flow: the app runs headless in this process on a fresh data folder, the Create form is
filled and submitted (Enter), and a 10 ms interval timer in the app records how late
each tick comes (the gap since the previous tick minus 10 ms) from the submit until the
new CA is in the table. The key is generated, the tree written and the stores updated
in a thread worker; a stall means that work held the event loop (the GIL, or work done
on the loop itself). Repeated ``--creates`` times; the worst tick over all runs counts.

Target: worst stall < 100 ms.

The data folder of (a) is built quickly as ``bench_list.py`` builds it: one RSA-2048 key
shared by all CAs, each with its own certificate, tree, CipherMail rows and ``ca_settings``
row, through the core's own functions.

Run: ``.venv/bin/python bench/bench_tui.py [--cas N] [--reps N] [--creates N]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_list import populate
from benchlib import machine_note, print_table

TARGET_START_RATIO = 2.5
TARGET_STALL_MS = 100.0
SIZE = (100, 34)
TICK = 0.010
COLUMNS = ("Name", "Type", "Expires", "Key", "Default", "Issued", "Trust")
CHILD_TIMEOUT = 120.0


# --- (a) in the child process -----------------------------------------------------------


def child_ours(data_dir: Path) -> None:
    """Run the dashboard on ``data_dir`` until its table is painted, then say so."""
    from textual.strip import Strip

    from hermes_ca_tui import events as ev
    from hermes_ca_tui.app import HermesCaApp
    from hermes_ca_tui.core.session import embedded_profile, open_service
    from hermes_ca_tui.widgets.ca_table import CaTable

    profile = embedded_profile(data_dir)

    class TimedApp(HermesCaApp):
        """The dashboard, reporting its first frame with the CAs in it."""

        def on_cas_loaded(self, message: ev.CasLoaded) -> None:
            # HermesCaApp's own handler runs too (Textual calls each class's handler).
            self.expected = message.cas[0].name if message.cas else ""
            self.call_after_refresh(self.check_painted)

        def check_painted(self) -> None:
            table = self.main.query_one(CaTable)
            line: Strip = table.render_line(1)  # line 0 is the header
            if table.row_count and self.expected and self.expected in line.text:
                print(f"painted {table.row_count}", flush=True)
                self.exit(0)
            else:
                self.call_after_refresh(self.check_painted)

    app = TimedApp(lambda: open_service(profile), label=profile.label, vt=False)
    app.run(headless=True, size=SIZE)


def child_bare() -> None:
    """Run a bare app with an empty DataTable until its first frame, then say so."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class BareApp(App[int]):
        """One empty DataTable with the dashboard's columns."""

        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            self.query_one(DataTable).add_columns(*COLUMNS)
            self.call_after_refresh(self.check_painted)

        def check_painted(self) -> None:
            if "Name" in self.query_one(DataTable).render_line(0).text:
                print("painted 0", flush=True)
                self.exit(0)
            else:
                self.call_after_refresh(self.check_painted)

    BareApp().run(headless=True, size=SIZE)


# --- (a) in the parent -------------------------------------------------------------------


def time_child(kind: str, data_dir: Path) -> tuple[float, int]:
    """Seconds from starting a child to its "painted" line, and the rows it saw."""
    argv = [sys.executable, __file__, "--child", kind, "--data-dir", str(data_dir)]
    env = dict(os.environ)
    for name in ("COLUMNS", "LINES"):
        env.pop(name, None)
    start = time.perf_counter()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        elapsed = time.perf_counter() - start
        try:
            _, err = child.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
    if not line.startswith("painted ") or child.returncode != 0:
        raise RuntimeError(f"{kind} child failed ({child.returncode}): {line!r} {err[-2000:]}")
    return elapsed, int(line.split()[1])


def bench_start(data_dir: Path, cas: int, reps: int) -> tuple[list[float], list[float]]:
    """Alternating timed starts of ours and bare, after one warm-up each."""
    time_child("ours", data_dir)
    time_child("bare", data_dir)
    ours: list[float] = []
    bare: list[float] = []
    for rep in range(reps):
        order = ("ours", "bare") if rep % 2 == 0 else ("bare", "ours")
        for kind in order:
            seconds, rows = time_child(kind, data_dir)
            if kind == "ours":
                if rows != cas:
                    raise RuntimeError(f"the dashboard painted {rows} rows, expected {cas}")
                ours.append(seconds)
            else:
                bare.append(seconds)
    return ours, bare


# --- (b) stalls while a 4096-bit CA is created ------------------------------------------


@dataclass
class Stalls:
    """Tick lateness during one create, in seconds."""

    late: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def worst(self) -> float:
        """The longest stall."""
        return max(self.late, default=0.0)


async def one_create(data_dir: Path, name: str, bits: int) -> Stalls:
    """Create a CA through the form; record the 10 ms ticks' lateness meanwhile."""
    from textual.widgets import Input, Select
    from textual.worker import WorkerCancelled

    from hermes_ca_tui.app import HermesCaApp
    from hermes_ca_tui.core.session import embedded_profile, open_service
    from hermes_ca_tui.screens.dialogs import ErrorModal
    from hermes_ca_tui.widgets.ca_table import CaTable

    profile = embedded_profile(data_dir)
    app = HermesCaApp(lambda: open_service(profile), label=profile.label, vt=False)
    stalls = Stalls()
    recording = False
    previous = 0.0

    def tick() -> None:
        nonlocal previous
        now = time.perf_counter()
        if recording and previous:
            stalls.late.append(max(0.0, now - previous - TICK))
        previous = now

    async def settle() -> None:
        for _ in range(100):
            with contextlib.suppress(WorkerCancelled):
                await app.workers.wait_for_complete()
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
        raise RuntimeError("the workers did not finish")

    async with app.run_test(size=SIZE) as pilot:
        await settle()
        table = app.main.query_one(CaTable)
        before = table.row_count
        await pilot.press("c")
        await pilot.pause()
        form = app.main.query_one("#create-form")
        for field_id, value in (
            ("common_name", name),
            ("organization", "Bench Org"),
            ("unit", "IT"),
            ("state", "Berlin"),
            ("country", "DE"),
        ):
            form.query_one(f"#{field_id}", Input).value = value
        form.query_one("#key_size", Select).value = bits
        app.set_interval(TICK, tick)
        form.query_one("#common_name", Input).focus()
        await pilot.pause(0.1)  # let the ticks start
        recording = True
        start = time.perf_counter()
        await pilot.press("enter")
        deadline = start + 300
        while table.row_count == before or app.busy is not None:
            if isinstance(app.screen, ErrorModal):
                raise RuntimeError(f"the create failed: {app.screen.described.text}")
            if time.perf_counter() > deadline:
                raise RuntimeError("the create did not finish")
            await pilot.pause(0.05)
        stalls.seconds = time.perf_counter() - start
        recording = False
        if not any(c.name == name for c in app.cas):
            raise RuntimeError(f"{name} is not in the table after the create")
    return stalls


def bench_stalls(workdir: Path, creates: int, bits: int) -> list[Stalls]:
    """``creates`` creates, each into the same data folder (the first one is fresh)."""
    data_dir = workdir / "create"
    return [asyncio.run(one_create(data_dir, f"Stall Bench {n:02d}", bits)) for n in range(creates)]


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run both measurements; 0 when both targets are met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cas", type=int, default=200, help="CAs in the table for (a)")
    parser.add_argument("--reps", type=int, default=7, help="timed starts per app for (a)")
    parser.add_argument("--creates", type=int, default=3, help="4096-bit creates for (b)")
    parser.add_argument("--bits", type=int, default=4096, help="key size for (b)")
    parser.add_argument("--child", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "ours":
        child_ours(args.data_dir)
        return 0
    if args.child == "bare":
        child_bare()
        return 0

    from hermes_ca_tui.core.profile import generate_key

    print("tui: start to first painted table; event-loop stalls during a create")
    print(f"machine at the start: {machine_note()}")
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        workdir = Path(tmp)
        data_dir = workdir / f"cas-{args.cas}"
        built = populate(data_dir, args.cas, generate_key(2048))
        print(f"  {args.cas} CAs built in {built:.1f} s", file=sys.stderr, flush=True)
        ours, bare = bench_start(data_dir, args.cas, args.reps)
        stalls = bench_stalls(workdir, args.creates, args.bits)
    print(f"machine at the end: {machine_note()}")
    print()

    def cell(samples: list[float]) -> str:
        return (
            f"{statistics.median(samples) * 1000:7.0f} "
            f"({min(samples) * 1000:.0f}-{max(samples) * 1000:.0f})"
        )

    print(f"(a) start to first painted table, ms median (min-max) of {args.reps} starts")
    print_table(
        ["app", "table", "ms"],
        [[f"ours, {args.cas} CAs", f"{args.cas} rows", cell(ours)], ["bare", "empty", cell(bare)]],
    )
    ratio = statistics.median(ours) / statistics.median(bare)
    start_ok = ratio <= TARGET_START_RATIO
    print()
    print(
        f"(b) event-loop stalls while a {args.bits}-bit CA is created ({TICK * 1000:.0f} ms tick)"
    )
    print_table(
        ["create", "seconds", "ticks", "worst stall ms", "median lateness ms"],
        [
            [
                str(n + 1),
                f"{s.seconds:.2f}",
                str(len(s.late)),
                f"{s.worst * 1000:.1f}",
                f"{statistics.median(s.late) * 1000:.2f}" if s.late else "-",
            ]
            for n, s in enumerate(stalls)
        ],
    )
    worst_ms = max(s.worst for s in stalls) * 1000
    stall_ok = worst_ms < TARGET_STALL_MS
    print()
    verdict = "ok" if start_ok else "MISSED"
    print(f"start ratio (ours/bare): {ratio:.2f} (target <= {TARGET_START_RATIO}) {verdict}")
    verdict = "ok" if stall_ok else "MISSED"
    print(
        f"worst event-loop stall: {worst_ms:.1f} ms (target < {TARGET_STALL_MS:.0f} ms) {verdict}"
    )
    return 0 if start_ok and stall_ok else 1


if __name__ == "__main__":
    sys.exit(main())
