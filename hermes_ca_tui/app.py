"""The Textual dashboard: screens on top, the core underneath, thread workers between.

Every call into the core runs in a thread worker and reports back with a message (see
:mod:`hermes_ca_tui.events`). One handler, :meth:`HermesCaApp.on_worker_state_changed`,
turns a failed worker into an error modal (or a message under the form field at fault).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from hermes_ca_tui import events as ev
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.health import StoreHealth
from hermes_ca_tui.core.ops.export import ExportRequest
from hermes_ca_tui.core.ops.importing import ImportPlan, ImportRequest
from hermes_ca_tui.core.security_conf import DownloadGate
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.validation import CreateRequest
from hermes_ca_tui.core.views import CaSummary
from hermes_ca_tui.messages import describe, describe_success
from hermes_ca_tui.screens.confirmations import delete_body, import_body, renew_body, repair_body
from hermes_ca_tui.screens.details import DetailsScreen
from hermes_ca_tui.screens.dialogs import ConfirmModal, ErrorModal
from hermes_ca_tui.screens.doctor import DoctorScreen
from hermes_ca_tui.screens.export import ExportScreen
from hermes_ca_tui.screens.help import HelpScreen
from hermes_ca_tui.screens.main import MainScreen
from hermes_ca_tui.settings import TuiSettings
from hermes_ca_tui.vt import (
    NORMAL_THEME,
    SAFE_KEY_NAMES,
    VT_THEME,
    VtScrollBarRender,
    console_is_vt,
)

log = logging.getLogger("hermes_ca_tui.app")

FORM_OPERATIONS = {"create": "create", "import-check": "import", "import": "import"}
"""Workers whose field errors are shown under the form's fields instead of a modal."""


def freeze_startup_objects() -> None:
    """Move everything alive after the first painted table out of the collector's sight.

    A full (generation 2) collection walks every tracked object: Textual's widgets, styles
    and caches, the core's modules. Measured with ``bench/bench_tui.py``, such a pass
    held the event loop for 35-90 ms during a create, enough to miss the 100 ms stall
    target together with the UI work around it. ``gc.freeze()`` leaves the start-up
    objects (alive for the whole run anyway) out of later passes.
    """
    gc.freeze()


class HermesCaApp(App[int]):
    """The CA dashboard.

    Args:
        opener: Opens the core service (called in a worker: it touches the stores).
        label: The profile shown in the status line (data folder or config path).
        settings: The ``[tui]`` settings.
        vt: Force VT mode on or off; ``None`` detects it (TERM=linux, 16 colours).
    """

    CSS_PATH = [Path(__file__).parent / "styles" / "app.tcss"]
    ENABLE_COMMAND_PALETTE = False
    TITLE = "hermes-ca-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("f5", "refresh", "Refresh", id="refresh"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(
        self,
        opener: Callable[[], CaService],
        *,
        label: str,
        settings: TuiSettings | None = None,
        vt: bool | None = None,
    ) -> None:
        super().__init__()
        self.opener = opener
        self.profile_label = label
        self.settings = settings or TuiSettings()
        if vt is None:
            vt = self.settings.vt
        self.vt: bool = vt if vt is not None else console_is_vt(self.console.color_system)
        self.service: CaService | None = None
        self.cas: list[CaSummary] = []
        self.gate: DownloadGate | None = None
        self.health: list[StoreHealth] = []
        self.busy: str | None = None
        """What the running change is doing, or ``None``."""
        self._busy_worker: Worker[None] | None = None
        self._busy_since = 0.0
        self._ticker: Timer | None = None
        self._pending_export: ExportRequest | None = None
        self._previous_renderer: type[ScrollBarRender] = ScrollBar.renderer
        self.animation_level = "full" if self.settings.animations else "none"
        self.main = MainScreen()
        self._gc_frozen = False

    # --- start-up --------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        """The main screen is the base of the stack."""
        return self.main

    def on_mount(self) -> None:
        """Theme, VT class, keymap; then open the stores in a worker."""
        self.register_theme(VT_THEME)
        self.theme = VT_THEME.name if self.vt else NORMAL_THEME
        if self.vt:
            self.add_class("-vt")
            ScrollBar.renderer = VtScrollBarRender
        if self.settings.keys:
            self.set_keymap(self.settings.keys)

    def open_stores(self) -> None:
        """Open the core service in a worker (called once the main screen is mounted)."""
        self.main.show_activity("Opening the stores...")
        self.run_worker(self._open, name="open", group="open", thread=True, exit_on_error=False)

    def on_unmount(self) -> None:
        """Put back what VT mode and the start-up freeze changed process-wide; close."""
        ScrollBar.renderer = self._previous_renderer
        if self._gc_frozen:
            gc.unfreeze()  # several apps in one process (tests): ours can be collected
        if self.service is not None:
            self.service.close()

    def _open(self) -> None:
        self.post_message(ev.ServiceOpened(self.opener()))

    def on_service_opened(self, message: ev.ServiceOpened) -> None:
        """Stores open: load the table; say what recovery did."""
        self.service = message.service
        done = [r for r in message.service.recovered if r.outcome != "pending"]
        if done:
            self.notify(
                f"Recovered {len(done)} interrupted operation(s): "
                + ", ".join(f"{r.operation} {r.outcome}" for r in done),
                title="Recovery",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self.main.show_activity("")
        self.refresh_data()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Inputs blink only if the settings ask for it (a blinking cursor redraws over SSH)."""
        if isinstance(event.widget, Input):
            event.widget.cursor_blink = self.settings.cursor_blink

    def get_key_display(self, binding: Binding) -> str:
        """Key names in ASCII (no arrows or symbols a console font lacks)."""
        key = binding.key.split(",")[0]
        if key in SAFE_KEY_NAMES:
            return SAFE_KEY_NAMES[key]
        if key.startswith("f") and key[1:].isdigit():
            return key.upper()
        return super().get_key_display(binding)

    # --- running core calls ----------------------------------------------------------

    def run_core(
        self,
        name: str,
        job: Callable[[CaService], Message | None],
        *,
        busy: str | None = None,
    ) -> None:
        """Run ``job`` on the service in a thread worker; it returns the message to post.

        Args:
            name: The worker's name (errors of form operations go under the form).
            job: The core call; raises :class:`CaError` on refusal.
            busy: For a change: what to show while it runs (one change at a time).
        """
        service = self.service
        if service is None:
            self.notify("The stores are not open yet.", severity="warning", markup=False)
            return
        if busy is not None and self.busy is not None:
            self.notify(f"Wait: {self.busy}", severity="warning", markup=False)
            return

        def work() -> None:
            message = job(service)
            if message is not None:
                self.post_message(message)

        worker: Worker[None] = self.run_worker(
            work,
            name=name,
            group="core",
            thread=True,
            exit_on_error=False,
            description=busy or name,
        )
        if busy is not None:
            self._start_busy(busy, worker)

    def _start_busy(self, text: str, worker: Worker[None]) -> None:
        self.busy = text
        self._busy_worker = worker
        self._busy_since = time.monotonic()
        self._tick()
        self._ticker = self.set_interval(0.2, self._tick)
        self.main.refresh_bindings()

    def _tick(self) -> None:
        if self.busy is None:
            return
        elapsed = time.monotonic() - self._busy_since
        line = Text("* ", style="bold yellow")
        line.append(f"{self.busy} {elapsed:4.1f} s")
        self.main.show_activity(line)

    def _stop_busy(self) -> None:
        self.busy = None
        self._busy_worker = None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.main.show_activity("")
        self.main.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a failed core call becomes words on the screen."""
        worker = event.worker
        if worker is self._busy_worker and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._stop_busy()
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.show_error(worker.error, origin=worker.name)

    def show_error(self, error: BaseException, *, origin: str = "") -> None:
        """Put an error in front of the operator: under its form field, or in a modal."""
        if not isinstance(error, CaError):
            log.error("internal error in %s", origin, exc_info=error)
            error = CaError(Code.INTERNAL, reason=f"{type(error).__name__}: see the log file")
        if origin == "export" and error.code is Code.OUTPUT_EXISTS and self._pending_export:
            self._ask_overwrite(self._pending_export)
            return
        described = describe(error)
        form = FORM_OPERATIONS.get(origin)
        if form and error.field and self.main.form_error(form, error.field, described.text):
            return
        self.push_screen(ErrorModal(described))

    # --- refreshing ------------------------------------------------------------------

    def refresh_data(self, select: int | None = None) -> None:
        """Reload every CA, the download switch and the stores' health."""
        service = self.service
        if service is None:
            return

        def load() -> None:
            cas = service.list_cas()
            self.post_message(ev.CasLoaded(cas, service.download_gate(), service.health(), select))

        self.run_worker(
            load, name="load", group="load", thread=True, exclusive=True, exit_on_error=False
        )

    def on_cas_loaded(self, message: ev.CasLoaded) -> None:
        """Show the new data; the cursor stays on its CA (or moves to ``select``)."""
        self.cas, self.gate, self.health = message.cas, message.gate, message.health
        self.main.show_data(message.cas, message.gate, message.health, message.select)
        if not self._gc_frozen:
            self._gc_frozen = True
            self.call_after_refresh(freeze_startup_objects)

    def action_refresh(self) -> None:
        """F5: reload."""
        self.refresh_data()

    def on_changed(self, message: ev.Changed) -> None:
        """A change went through: say so, reset its form, reload, follow the CA."""
        self.notify(message.text, title="Done", markup=False)
        if message.form:
            self.main.reset_form(message.form)
        self.refresh_data(select=message.select)

    # --- create / import -------------------------------------------------------------

    def start_create(self, request: CreateRequest) -> None:
        """Create a CA (key generation included) in a worker."""
        bits = request.key_size
        self.run_core(
            "create",
            lambda s: ev.Changed(
                describe_success("create"), s.create(request).summary.id, form="create"
            ),
            busy=f"Creating {request.common_name.strip()}: generating a {bits}-bit key...",
        )

    def start_import_check(self, request: ImportRequest) -> None:
        """Check an import; a confirmation with its warnings follows."""
        self.run_core(
            "import-check",
            lambda s: ev.ImportChecked(s.inspect_import(request)),
            busy=f"Checking {request.name.strip()}...",
        )

    def on_import_checked(self, message: ev.ImportChecked) -> None:
        """Show what will be imported and its warnings; commit on yes."""
        plan = message.plan
        title = (
            f'Import "{plan.name}" despite {len(plan.warnings)} warning(s)?'
            if plan.warnings
            else f'Import "{plan.name}"?'
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._commit_import(plan)

        self.push_screen(
            ConfirmModal(title, import_body(plan), confirm="Import", id="confirm-import"), answered
        )

    def _commit_import(self, plan: ImportPlan) -> None:
        self.run_core(
            "import",
            lambda s: ev.Changed(
                describe_success("import"),
                s.import_ca(plan, accept_warnings=True).summary.id,
                form="import",
            ),
            busy=f"Importing {plan.name}...",
        )

    # --- set default, renew, delete --------------------------------------------------

    def start_set_default(self, ca: CaSummary) -> None:
        """Make a CA the default."""
        if ca.default:
            self.notify(f"{ca.name} is already the default.", markup=False)
            return

        def job(s: CaService) -> ev.Changed:
            name = s.set_default(ca.id).summary.name
            return ev.Changed(f"{describe_success('set-default')} {name} is the default.", ca.id)

        self.run_core("set-default", job, busy=f"Making {ca.name} the default...")

    def start_renew_plan(self, ca: CaSummary) -> None:
        """Compute a renewal, then ask."""
        self.run_core("renew-plan", lambda s: ev.RenewPlanned(s.plan_renew(ca.id)))

    def on_renew_planned(self, message: ev.RenewPlanned) -> None:
        """Ask, with current and new expiry, serial change, issued certificates, warnings."""
        plan = message.plan

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            self.run_core(
                "renew",
                lambda s: ev.Changed(
                    describe_success(
                        "renew", expires=s.renew(plan, accept_warnings=True)[0].summary.expires
                    ),
                    plan.ca_id,
                ),
                busy=f"Renewing {plan.name}...",
            )

        self.push_screen(
            ConfirmModal(
                f'Renew "{plan.name}"?', renew_body(plan), confirm="Renew", id="confirm-renew"
            ),
            answered,
        )

    def start_delete_plan(self, ca: CaSummary) -> None:
        """Plan a delete, then ask (or explain the refusal)."""
        self.run_core("delete-plan", lambda s: ev.DeletePlanned(s.plan_delete(ca.id)))

    def on_delete_planned(self, message: ev.DeletePlanned) -> None:
        """Refuse with the reason, or ask, naming the next default."""
        plan = message.plan
        if plan.refused:
            self.push_screen(
                ConfirmModal(
                    f'"{plan.name}" cannot be deleted',
                    delete_body(plan),
                    can_confirm=False,
                    id="refuse-delete",
                )
            )
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def job(s: CaService) -> ev.Changed:
                result = s.delete(plan.ca_id)
                text = describe_success("delete")
                if result.new_default_name:
                    text += f' "{result.new_default_name}" is now the default CA.'
                return ev.Changed(text, result.new_default_id)

            self.run_core("delete", job, busy=f"Deleting {plan.name}...")

        self.push_screen(
            ConfirmModal(
                f'Delete "{plan.name}"?',
                delete_body(plan),
                confirm="Delete",
                danger=True,
                id="confirm-delete",
            ),
            answered,
        )

    # --- details, export, doctor, help -----------------------------------------------

    def start_details(self, ca: CaSummary) -> None:
        """Load and show one CA."""
        self.run_core("details", lambda s: ev.DetailsLoaded(s.show(ca.id)))

    def on_details_loaded(self, message: ev.DetailsLoaded) -> None:
        """Show the details view."""
        self.push_screen(DetailsScreen(message.details))

    def start_export(self, ca: CaSummary) -> None:
        """Ask what to export (security.conf is checked again when it runs)."""

        def chosen(request: ExportRequest | None) -> None:
            if request is not None:
                self._run_export(request)

        self.push_screen(ExportScreen(ca), chosen)

    def _run_export(self, request: ExportRequest) -> None:
        self._pending_export = request
        self.run_core("export", lambda s: ev.Exported(s.export(request)))

    def _ask_overwrite(self, request: ExportRequest) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._run_export(replace(request, overwrite=True))

        self.push_screen(
            ConfirmModal(
                f"{request.out} exists",
                [f"Replace {request.out}?"],
                confirm="Replace",
                danger=True,
                id="confirm-overwrite",
            ),
            answered,
        )

    def on_exported(self, message: ev.Exported) -> None:
        """Say where it went."""
        self._pending_export = None
        r = message.result
        what = "private key" if r.what.value == "key" else "certificate"
        extra = ", encrypted" if r.encrypted else ""
        self.notify(
            f"{r.name}: {what} written to {r.path} ({r.format.value.upper()}{extra}).",
            title="Exported",
            markup=False,
            timeout=10,
        )

    def start_doctor(self) -> None:
        """Diagnose the three stores."""
        self.run_core(
            "doctor", lambda s: ev.DoctorReported(s.doctor()), busy="Checking the stores..."
        )

    def on_doctor_reported(self, message: ev.DoctorReported) -> None:
        """Show (or update) the doctor view."""
        if isinstance(self.screen, DoctorScreen):
            self.screen.show_report(message.report)
        else:
            self.push_screen(DoctorScreen(message.report))

    @on(DoctorScreen.RerunRequested)
    def _rerun_doctor(self) -> None:
        self.start_doctor()

    @on(DoctorScreen.RepairRequested)
    def _repair(self, message: DoctorScreen.RepairRequested) -> None:
        findings = message.findings

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            keys = {f.key for f in findings}
            self.run_core(
                "repair",
                lambda s: ev.Repaired(*s.repair(keys)),
                busy=f"Repairing {len(findings)} finding(s)...",
            )

        self.push_screen(
            ConfirmModal(
                f"Repair {len(findings)} finding(s)?",
                repair_body(findings),
                confirm="Repair",
                id="confirm-repair",
            ),
            answered,
        )

    def on_repaired(self, message: ev.Repaired) -> None:
        """Update the doctor view and the table."""
        self.notify(
            describe_success("repair", count=len(message.fixed)), title="Doctor", markup=False
        )
        if isinstance(self.screen, DoctorScreen):
            self.screen.show_report(message.report)
        self.refresh_data()

    def action_help(self) -> None:
        """List every key."""
        keys: list[tuple[str, str]] = []
        seen: set[str] = set()
        # The key bar's keys first (so "q Quit", not Textual's hidden "ctrl+q Quit"),
        # then the hidden ones (table navigation, Esc...).
        active_bindings = sorted(
            self.main.active_bindings.items(), key=lambda item: not item[1].binding.show
        )
        for key, active in active_bindings:
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            keys.append((self.get_key_display(replace(binding, key=key)), binding.description))
        keys.append(("Tab", "next field / widget"))
        self.push_screen(HelpScreen(keys))
