"""The main screen: the status line, the Create and Import forms, the filter, the CA table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, DataTable, Input, Label, Static

from hermes_ca_tui.core.health import StoreHealth
from hermes_ca_tui.core.security_conf import DownloadGate
from hermes_ca_tui.core.views import CaSummary
from hermes_ca_tui.widgets.ca_table import CaTable
from hermes_ca_tui.widgets.forms import CreateForm, ImportForm
from hermes_ca_tui.widgets.key_bar import KeyBar
from hermes_ca_tui.widgets.panel import Panel

if TYPE_CHECKING:
    from hermes_ca_tui.app import HermesCaApp

NEEDS_CA = {"set_default", "renew", "delete", "export", "details"}
MUTATING = {"set_default", "renew", "delete"}
"""Changes refused while another runs (the forms stay open; their submit is refused)."""


def status_text(
    label: str, cas: list[CaSummary], health: list[StoreHealth], gate: DownloadGate | None
) -> Text:
    """The two header lines: where we are, the default CA, each store, downloads."""
    default = next((c.name for c in cas if c.default), None)
    line = Text()
    line.append("hermes-ca-tui", style="bold")
    line.append(f"  {label}  ")
    line.append("default: ", style="bold")
    line.append(default or "none", style="" if default else "bold yellow")
    line.append(f"  ({len(cas)} CA{'s' if len(cas) != 1 else ''})\n")
    if not health:
        line.append("stores: checking...")
    for store in health:
        line.append(f"{store.name}: ", style="bold")
        line.append("ok" if store.ok else "DOWN", style="green" if store.ok else "bold red")
        line.append(f" ({store.detail})  " if not store.ok or store.name == "ciphermail" else "  ")
    line.append("\n" if gate is not None and not gate.allowed else "")
    if gate is not None:
        line.append("export: ", style="bold")
        if gate.allowed:
            line.append("allowed", style="yellow")
        else:
            line.append(f"disabled ({gate.reason})", style="")
    return line


class MainScreen(Screen[None]):
    """The dashboard's home."""

    AUTO_FOCUS = "#cas"

    BINDINGS = [
        Binding("c", "open_create", "Create", id="create"),
        Binding("i", "open_import", "Import", id="import"),
        Binding("d", "set_default", "Default", id="set_default"),
        Binding("r", "renew", "Renew", id="renew"),
        Binding("x", "delete", "Delete", id="delete"),
        Binding("e", "export", "Export", id="export"),
        Binding("o", "doctor", "Doctor", id="doctor"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "back_to_table", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")

    @property
    def hermes(self) -> HermesCaApp:
        """The app, typed."""
        from hermes_ca_tui.app import HermesCaApp

        assert isinstance(self.app, HermesCaApp)
        return self.app

    def compose(self) -> ComposeResult:
        """Status, forms, filter, table, activity line, footer."""
        yield Static(Text("hermes-ca-tui  opening the stores..."), id="status")
        symbols = ("v", ">") if self.hermes.vt else ("▼", "▶")
        with VerticalScroll(id="forms"):
            with Panel(
                title="Create Internal CA",
                id="create-panel",
                expanded_symbol=symbols[0],
                collapsed_symbol=symbols[1],
            ):
                yield CreateForm(id="create-form")
            with Panel(
                title="Import External CA",
                id="import-panel",
                expanded_symbol=symbols[0],
                collapsed_symbol=symbols[1],
            ):
                yield ImportForm(id="import-form")
        with Horizontal(id="filter-row"):
            yield Label("Filter: ")
            yield Input(placeholder="type to filter by name (/)", id="filter", compact=True)
        table = CaTable(id="cas")
        table.loading = False
        yield table
        yield Static(id="activity")
        yield KeyBar()

    def on_mount(self) -> None:
        """Mounted: the app may open the stores now."""
        self.hermes.open_stores()

    # --- state from the app ----------------------------------------------------------

    @property
    def table(self) -> CaTable:
        """The CA table."""
        return self.query_one("#cas", CaTable)

    def show_data(
        self,
        cas: list[CaSummary],
        gate: DownloadGate,
        health: list[StoreHealth],
        select: int | None,
    ) -> None:
        """Refresh the status line and the table (in place, cursor kept)."""
        self.query_one("#status", Static).update(
            status_text(self.hermes.profile_label, cas, health, gate)
        )
        self.table.show(cas, self.query_one("#filter", Input).value, select=select)
        no_default = not any(c.default for c in cas)
        self.query_one("#create-form", CreateForm).force_default(no_default)
        self.query_one("#import-form", ImportForm).force_default(no_default)
        self.refresh_bindings()

    def show_activity(self, text: Text | str) -> None:
        """The line above the footer: what is running, or the last result."""
        self.query_one("#activity", Static).update(text if isinstance(text, Text) else Text(text))

    def reset_form(self, name: str) -> None:
        """After a success: empty and collapse the form, back to the table.

        Collapsing restyles every widget of the form (30-50 ms here); it runs after the
        next refresh, so it does not add up with the rest of the success handling (the
        toast, the reload) into one long event-loop stall (``bench/bench_tui.py``).
        """
        form = self.query_one(f"#{name}-form")
        assert isinstance(form, CreateForm | ImportForm)
        form.reset()
        self.call_after_refresh(self._close_form, name)

    def _close_form(self, name: str) -> None:
        self.query_one(f"#{name}-panel", Collapsible).collapsed = True
        # Moving the focus out restyles the form again (:focus-within): another turn.
        self.call_after_refresh(self.table.focus)

    def form_error(self, form: str, field: str | None, text: str) -> bool:
        """Show a core refusal under a form field; False when it belongs to no field."""
        widget = self.query_one(f"#{form}-form")
        assert isinstance(widget, CreateForm | ImportForm)
        return widget.show_field_error(field, text)

    # --- bindings --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable (show dimmed) what cannot run now: no CA, busy, downloads off."""
        if not self.is_mounted:
            return True
        app = self.hermes
        if action in NEEDS_CA and self.table.selected() is None:
            return None
        if action in MUTATING and app.busy is not None:
            return None
        if action == "export" and (app.gate is None or not app.gate.allowed):
            return None
        if action in ("doctor",) and app.service is None:
            return None
        return True

    @on(DataTable.RowHighlighted, "#cas")
    def _moved(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#cas")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def _open(self, name: str) -> None:
        other = "import" if name == "create" else "create"
        self.query_one(f"#{other}-panel", Collapsible).collapsed = True
        panel = self.query_one(f"#{name}-panel", Collapsible)
        panel.collapsed = False
        form = self.query_one(f"#{name}-form")
        assert isinstance(form, CreateForm | ImportForm)
        self.call_after_refresh(form.focus_first)

    def action_open_create(self) -> None:
        """Expand the Create form and put the cursor in its first field."""
        self._open("create")

    def action_open_import(self) -> None:
        """Expand the Import form and put the cursor in its first field."""
        self._open("import")

    def action_back_to_table(self) -> None:
        """Escape: collapse the forms, leave the filter, back to the table."""
        for name in ("create", "import"):
            self.query_one(f"#{name}-panel", Collapsible).collapsed = True
        self.table.focus()

    def action_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.table.show(list(self.table.cas.values()), event.value)
        self.refresh_bindings()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    @on(CreateForm.Submitted)
    def _create(self, event: CreateForm.Submitted) -> None:
        self.hermes.start_create(event.request)

    @on(ImportForm.Submitted)
    def _import(self, event: ImportForm.Submitted) -> None:
        self.hermes.start_import_check(event.request)

    def action_set_default(self) -> None:
        """Make the selected CA the default."""
        ca = self.table.selected()
        if ca is not None:
            self.hermes.start_set_default(ca)

    def action_renew(self) -> None:
        """Plan the renewal of the selected CA, then ask."""
        ca = self.table.selected()
        if ca is not None:
            self.hermes.start_renew_plan(ca)

    def action_delete(self) -> None:
        """Plan the deletion of the selected CA, then ask."""
        ca = self.table.selected()
        if ca is not None:
            self.hermes.start_delete_plan(ca)

    def action_export(self) -> None:
        """Ask what to export from the selected CA."""
        ca = self.table.selected()
        if ca is not None:
            self.hermes.start_export(ca)

    def action_details(self) -> None:
        """Show the selected CA in detail."""
        ca = self.table.selected()
        if ca is not None:
            self.hermes.start_details(ca)

    def action_doctor(self) -> None:
        """Compare the three stores."""
        self.hermes.start_doctor()
