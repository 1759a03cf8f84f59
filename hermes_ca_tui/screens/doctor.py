"""The doctor view: drift per CA, repaired one at a time or all at once after a confirmation."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from hermes_ca_tui.core.doctor import DoctorReport
from hermes_ca_tui.core.findings import Finding
from hermes_ca_tui.messages import describe_finding, describe_repair
from hermes_ca_tui.widgets.key_bar import KeyBar

FIXED_WIDTHS = {"ca": 18, "code": 19, "repair": 6}
"""Widths of the doctor table's columns but "What" (the longest code is 19 characters)."""

MIN_WHAT_WIDTH = 24


class DoctorScreen(Screen[None]):
    """Findings of the last diagnosis."""

    BINDINGS = [
        Binding("r", "repair_one", "Repair selected"),
        Binding("a", "repair_all", "Repair all"),
        Binding("f5", "rerun", "Check again"),
        Binding("escape", "close", "Back"),
    ]

    class RepairRequested(Message):
        """The operator chose findings to repair."""

        def __init__(self, findings: list[Finding]) -> None:
            super().__init__()
            self.findings = findings

    class RerunRequested(Message):
        """The operator wants a fresh diagnosis."""

    def __init__(self, report: DoctorReport) -> None:
        super().__init__(id="doctor")
        self.report = report

    def compose(self) -> ComposeResult:
        """A summary line, the findings table, the footer."""
        yield Static(id="doctor-summary")
        table: DataTable[Text] = DataTable(id="findings", cursor_type="row")
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        """Columns, then the report."""
        table = self.query_one("#findings", DataTable)
        table.add_column("CA", key="ca", width=FIXED_WIDTHS["ca"])
        table.add_column("Finding", key="code", width=FIXED_WIDTHS["code"])
        table.add_column("What", key="what", width=self._what_width())
        table.add_column("Repair", key="repair", width=FIXED_WIDTHS["repair"])
        self.show_report(self.report)
        table.focus()

    def _what_width(self) -> int:
        """The "What" column takes the width the others leave (its text wraps)."""
        table = self.query_one("#findings", DataTable)
        padding = 2 * table.cell_padding * (len(FIXED_WIDTHS) + 1)
        # One column for a vertical scrollbar, so a long report never scrolls sideways.
        spare = self.app.size.width - sum(FIXED_WIDTHS.values()) - padding - 1
        return max(MIN_WHAT_WIDTH, spare)

    def on_resize(self) -> None:
        """Re-wrap the findings for the new width."""
        table = self.query_one("#findings", DataTable)
        width = self._what_width()
        column = table.columns.get(ColumnKey("what"))
        if column is not None and column.width != width:
            column.width = width
            self.show_report(self.report)

    def show_report(self, report: DoctorReport) -> None:
        """Replace the findings."""
        self.report = report
        table = self.query_one("#findings", DataTable)
        table.clear()
        for n, f in enumerate(report.findings):
            table.add_row(
                Text(f.ca),
                Text(f.code.value),
                Text(describe_finding(f.code, f.params)),
                Text("yes", style="green") if f.repairable else Text("manual", style="yellow"),
                key=str(n),
                height=None,  # long texts (paths) wrap instead of being cut off
            )
        if report.ok:
            summary = Text(
                f"All {report.checked} CA(s) consistent across the three stores.",
                style="bold green",
            )
        else:
            summary = Text(
                f"{len(report.findings)} finding(s), {len(report.repairable)} repairable. "
                "r: repair the selected one, a: repair all.",
                style="bold yellow",
            )
        self.query_one("#doctor-summary", Static).update(summary)
        self.refresh_bindings()

    def _selected(self) -> Finding | None:
        table = self.query_one("#findings", DataTable)
        if table.row_count == 0:
            return None
        return self.report.findings[table.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Repairs are shown disabled when there is nothing they could fix."""
        if action == "repair_one":
            chosen = self._selected() if self.is_mounted else None
            return True if chosen is not None and chosen.repairable else None
        if action == "repair_all":
            return True if self.report.repairable else None
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The selected finding decides whether ``r`` is enabled."""
        self.refresh_bindings()

    def action_repair_one(self) -> None:
        """Repair the selected finding (after a confirmation)."""
        chosen = self._selected()
        if chosen is not None and chosen.repairable:
            self.post_message(self.RepairRequested([chosen]))

    def action_repair_all(self) -> None:
        """Repair every repairable finding (after a confirmation)."""
        if self.report.repairable:
            self.post_message(self.RepairRequested(list(self.report.repairable)))

    def action_rerun(self) -> None:
        """Diagnose again."""
        self.post_message(self.RerunRequested())

    def action_close(self) -> None:
        """Back to the table."""
        self.dismiss(None)


def repair_summary(finding: Finding) -> str:
    """One line naming the fix."""
    return describe_repair(finding.code, finding.params) or finding.code.value
