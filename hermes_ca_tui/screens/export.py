"""The export dialog: certificate or key, PEM or DER, a path, an optional passphrase."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from hermes_ca_tui.core.ops.export import ExportFormat, ExportRequest, ExportWhat
from hermes_ca_tui.core.views import CaSummary
from hermes_ca_tui.widgets.form_field import FormField


def default_path(ca: CaSummary, what: ExportWhat, fmt: ExportFormat) -> str:
    """The web page's file names: ``<dir>_cacert.pem`` / ``<dir>_cakey.pem``."""
    stem = "cacert" if what is ExportWhat.CERT else "cakey"
    return str(Path.cwd() / f"{ca.directory}_{stem}.{fmt.value}")


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Ask what to export and where; the core checks security.conf again on export."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, ca: CaSummary) -> None:
        super().__init__(classes="dialog-screen")
        self.ca = ca

    def compose(self) -> ComposeResult:
        """What, format, path, encryption, buttons."""
        with Vertical(classes="dialog", id="export-dialog"):
            yield Static(Text(f"Export from {self.ca.name}", style="bold"), classes="dialog-title")
            yield FormField(
                "What",
                Select(
                    [("Certificate", ExportWhat.CERT), ("Private key", ExportWhat.KEY)],
                    value=ExportWhat.CERT,
                    allow_blank=False,
                    id="export-what",
                    compact=True,
                ),
            )
            yield FormField(
                "Format",
                Select(
                    [("PEM", ExportFormat.PEM), ("DER", ExportFormat.DER)],
                    value=ExportFormat.PEM,
                    allow_blank=False,
                    id="export-format",
                    compact=True,
                ),
            )
            yield FormField(
                "File",
                Input(
                    default_path(self.ca, ExportWhat.CERT, ExportFormat.PEM),
                    id="export-path",
                    compact=True,
                ),
                hint="Written 0600; an existing file is never replaced without asking",
                id="field-export-path",
            )
            yield Checkbox("Encrypt the key (PKCS#8, AES-256)", id="export-encrypt", compact=True)
            yield FormField(
                "Passphrase",
                Input(password=True, id="export-pass", compact=True),
                id="field-export-pass",
            )
            yield FormField(
                "Repeat",
                Input(password=True, id="export-pass2", compact=True),
                id="field-export-pass2",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Export", id="export", variant="primary", compact=True)

    def on_mount(self) -> None:
        """Start on the first choice; the key options only show for a key."""
        self._sync()
        self.query_one("#export-what", Select).focus()

    def _what(self) -> ExportWhat:
        value = self.query_one("#export-what", Select).value
        return value if isinstance(value, ExportWhat) else ExportWhat.CERT

    def _format(self) -> ExportFormat:
        value = self.query_one("#export-format", Select).value
        return value if isinstance(value, ExportFormat) else ExportFormat.PEM

    def _sync(self) -> None:
        key = self._what() is ExportWhat.KEY
        encrypt = self.query_one("#export-encrypt", Checkbox)
        encrypt.display = key
        show_pass = key and encrypt.value
        self.query_one("#field-export-pass").display = show_pass
        self.query_one("#field-export-pass2").display = show_pass

    @on(Select.Changed)
    def _choice(self, event: Select.Changed) -> None:
        path = self.query_one("#export-path", Input)
        suggestions = {default_path(self.ca, w, f) for w in ExportWhat for f in ExportFormat}
        if path.value in suggestions:
            path.value = default_path(self.ca, self._what(), self._format())
        self._sync()

    @on(Checkbox.Changed, "#export-encrypt")
    def _encrypt(self) -> None:
        self._sync()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Export or cancel."""
        event.stop()
        if event.button.id == "export":
            self._finish()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)

    def _finish(self) -> None:
        path_text = self.query_one("#export-path", Input).value.strip()
        path_field = self.query_one("#field-export-path", FormField)
        if not path_text:
            path_field.show_error("Give the file to write.")
            self.query_one("#export-path", Input).focus()
            return
        path = Path(path_text).expanduser()
        if not path.parent.is_dir():
            path_field.show_error(f"The folder {path.parent} does not exist.")
            self.query_one("#export-path", Input).focus()
            return
        path_field.show_error(None)
        passphrase: bytes | None = None
        what = self._what()
        if what is ExportWhat.KEY and self.query_one("#export-encrypt", Checkbox).value:
            first = self.query_one("#export-pass", Input).value
            second = self.query_one("#export-pass2", Input).value
            pass_field = self.query_one("#field-export-pass", FormField)
            if not first:
                pass_field.show_error("The passphrase cannot be empty.")
                self.query_one("#export-pass", Input).focus()
                return
            if first != second:
                pass_field.show_error("The two passphrases differ.")
                self.query_one("#export-pass2", Input).focus()
                return
            pass_field.show_error(None)
            passphrase = first.encode()
        self.dismiss(
            ExportRequest(
                ref=self.ca.id, what=what, out=path, format=self._format(), passphrase=passphrase
            )
        )
