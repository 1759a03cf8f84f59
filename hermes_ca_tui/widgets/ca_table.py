"""The CA table: one row per CA, updated in place, the cursor following its CA."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from hermes_ca_tui.core.trust.state import TrustState
from hermes_ca_tui.core.views import CaSummary, ExpiryStatus

COLUMNS = (
    ("name", "Name", None),
    ("type", "Type", 8),
    ("expires", "Expires", 21),
    ("key", "Key", 9),
    ("default", "Default", 7),
    ("issued", "Issued", 6),
    ("trust", "Trust", 15),
)
"""Column key, header and fixed width (``None``: sized to the names)."""

_TRUST_STYLE = {
    TrustState.TRUSTED: "green",
    TrustState.UNKNOWN: "yellow",
}

_TRUST_WORDS = {
    TrustState.TRUSTED: "trusted",
    TrustState.NOT_WHITELISTED: "not whitelisted",
    TrustState.CTL_MISSING: "no trust entry",
    TrustState.NOT_IN_ROOTS: "not in roots",
    TrustState.MISSING: "not trusted",
    TrustState.UNKNOWN: "unknown",
}


def expires_cell(ca: CaSummary) -> Text:
    """The date, with an amber "N days" or a red "Expired" badge."""
    text = Text(ca.expires.isoformat() if ca.expires else "?")
    if ca.expiry is ExpiryStatus.EXPIRED:
        text.append(" ")
        text.append(" Expired ", style="bold white on red")
    elif ca.expiry is ExpiryStatus.SOON:
        text.append(" ")
        text.append(f" {ca.days_left} days ", style="bold black on yellow")
    return text


def row_cells(ca: CaSummary) -> tuple[Text, ...]:
    """The cells of one CA's row; user text is never parsed as markup."""
    trust = Text(_TRUST_WORDS[ca.trust], style=_TRUST_STYLE.get(ca.trust, "bold red"))
    if ca.problem:
        trust = Text(ca.problem, style="bold red")
    return (
        Text(ca.name),
        Text("Imported" if ca.imported else "Internal"),
        expires_cell(ca),
        Text(f"{ca.key_bits}-bit" if ca.key_bits else "N/A"),
        Text("YES", style="bold green") if ca.default else Text(""),
        Text(str(ca.issued)),
        trust,
    )


def matches(ca: CaSummary, needle: str) -> bool:
    """Whether a CA passes the filter (name, folder or type, ignoring case)."""
    if not needle:
        return True
    needle = needle.casefold()
    return any(needle in s.casefold() for s in (ca.name, ca.directory, ca.type))


class CaTable(DataTable[Text]):
    """The CA table. Row keys are CA ids, so the cursor follows a CA, not a position."""

    BINDINGS = [
        # Enter opens the details (through RowSelected); remappable as "details".
        Binding("enter", "select_cursor", "Details", id="details"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.cas: dict[int, CaSummary] = {}

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def selected_id(self) -> int | None:
        """The id of the CA under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return int(key.value) if key.value is not None else None

    def selected(self) -> CaSummary | None:
        """The CA under the cursor."""
        ca_id = self.selected_id()
        return self.cas.get(ca_id) if ca_id is not None else None

    def select_id(self, ca_id: int | None) -> None:
        """Put the cursor on a CA, if it is shown."""
        if ca_id is None:
            return
        with contextlib.suppress(RowDoesNotExist):
            self.move_cursor(row=self.get_row_index(str(ca_id)))

    def show(
        self, cas: Sequence[CaSummary], needle: str = "", *, select: int | None = None
    ) -> None:
        """Show ``cas`` (already sorted by name), filtered, changing only what changed.

        Args:
            cas: Every CA.
            needle: The filter text.
            select: Move the cursor to this CA; otherwise it stays on the CA it was on.
        """
        keep = select if select is not None else self.selected_id()
        self.cas = {ca.id: ca for ca in cas}
        wanted = [ca for ca in cas if matches(ca, needle)]
        wanted_keys = [str(ca.id) for ca in wanted]
        with self.app.batch_update():
            for row_key in [k for k in list(self.rows) if k.value not in set(wanted_keys)]:
                self.remove_row(row_key)
            for ca in wanted:
                cells = row_cells(ca)
                key = str(ca.id)
                if key in self.rows:
                    for (column, _, _), value in zip(COLUMNS, cells, strict=True):
                        if self.get_cell(key, column) != value:
                            self.update_cell(key, column, value, update_width=column == "name")
                else:
                    self.add_row(*cells, key=key)
            order = [r.key.value for r in self.ordered_rows]
            if order != wanted_keys:
                # Names are unique (ignoring case), so a name gives the wanted position.
                position = {ca.name: i for i, ca in enumerate(wanted)}
                self.sort("name", key=lambda name: position.get(name.plain, 0))
        if keep is not None and str(keep) in self.rows:
            self.select_id(keep)
