"""The details of one CA (PRODUCT §3 show), fingerprints laid out to be read aloud."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hermes_ca_tui.core.views import CaDetails, ExpiryStatus


def phone_lines(colon_hex: str, per_line: int = 16, group: int = 4) -> list[str]:
    """A fingerprint in numbered groups of bytes, easy to read out over the phone.

    ``AB:CD:...`` becomes lines like ``1  AB CD EF 01   2  23 45 67 89 ...``.
    """
    octets = colon_hex.split(":")
    groups = [" ".join(octets[i : i + group]) for i in range(0, len(octets), group)]
    per = per_line // group
    lines = []
    for start in range(0, len(groups), per):
        parts = [f"{n + 1:>2}  {g}" for n, g in enumerate(groups[start : start + per], start)]
        lines.append("   ".join(parts))
    return lines


def detail_lines(d: CaDetails) -> list[Text]:
    """Everything ``show`` knows, as lines of text."""
    s = d.summary
    kind = "Imported" if s.imported else "Internal"
    lines = [Text(s.name, style="bold")]

    def row(label: str, value: str, style: str = "") -> None:
        # The label alone is bold (a style given to Text() would cover the value too).
        line = Text()
        line.append(f"{label:<12}", style="bold")
        line.append(value, style=style)
        lines.append(line)

    row("Type", f"{kind}{', default CA' if s.default else ''}  (id {s.id})")
    expiry = s.expires.isoformat() if s.expires else "?"
    if s.expiry is ExpiryStatus.EXPIRED:
        row("Expires", f"{expiry}  Expired", "bold red")
    elif s.expiry is ExpiryStatus.SOON:
        row("Expires", f"{expiry}  {s.days_left} days left", "bold yellow")
    else:
        row(
            "Expires", f"{expiry}  ({s.days_left} days left)" if s.days_left is not None else expiry
        )
    row("Issued", f"{s.issued} certificate(s)")
    row("Trust", s.trust.value, "green" if s.trust.value == "trusted" else "bold red")
    row("Folder", d.tree)
    if s.problem:
        row("Problem", s.problem, "bold red")
    f = d.facts
    if f is None:
        return lines
    if f.published_as:
        row("DANGER", f"{f.published_as}: its private key is public", "bold red")
    # The fingerprints come first: they are what is read out over the phone, and on a
    # 25-row console everything below them needs scrolling.
    lines.append(Text(""))
    lines.append(Text("SHA-256 fingerprint", style="bold underline"))
    lines += [Text(line, style="bold") for line in phone_lines(f.sha256)]
    lines.append(Text(""))
    lines.append(Text("SHA-1 fingerprint (Windows thumbprint)", style="bold underline"))
    lines += [Text(line, style="bold") for line in phone_lines(f.sha1, per_line=12)]
    lines.append(Text(""))
    row("Subject", f.subject)
    row("Issuer", f.issuer + ("  (self-signed)" if f.self_signed else ""))
    row("Serial", f.serial_hex)
    row("Valid from", f.not_before.strftime("%Y-%m-%d %H:%M:%S UTC"))
    row("Valid until", f.not_after.strftime("%Y-%m-%d %H:%M:%S UTC"))
    row("Key", f"{f.key_algorithm} {f.key_bits} bits")
    row("Signature", f.signature_algorithm)
    for ext in f.extensions:
        row("Extension", f"{ext.name}: {ext.value}{'  [critical]' if ext.critical else ''}")
    if d.chain:
        row("Chain", " <- ".join(d.chain))
    return lines


class DetailsScreen(ModalScreen[None]):
    """One CA in detail; Escape returns to the table."""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),
    ]

    def __init__(self, details: CaDetails) -> None:
        super().__init__(classes="dialog-screen")
        self.details = details

    def compose(self) -> ComposeResult:
        """The lines in a scrollable dialog."""
        with Vertical(classes="dialog -wide", id="details-dialog"):
            yield Static(Text("Certificate Authority", style="bold"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body", id="details-body"):
                for line in detail_lines(self.details):
                    yield Static(line)
            yield Static(Text("Esc: back"), classes="dialog-code")

    def on_mount(self) -> None:
        """Focus the scroll area, so arrows scroll it."""
        self.query_one("#details-body").focus()

    def action_close(self) -> None:
        """Back to the table."""
        self.dismiss(None)
