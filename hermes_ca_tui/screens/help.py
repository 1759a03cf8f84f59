"""The key list (``?``): every key of the main screen, with the keymap applied."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Keys and what they do."""

    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.keys = keys

    def compose(self) -> ComposeResult:
        """The key table and a few words on forms."""
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                width = max((len(k) for k, _ in self.keys), default=4)
                for key, description in self.keys:
                    line = Text()
                    line.append(f"{key:>{width}}  ", style="bold")
                    line.append(description)
                    yield Static(line)
                yield Static(Text(""))
                yield Static(
                    Text(
                        "In a form: Tab moves between fields, Enter submits, Esc closes it. "
                        "In a dialog: y confirms, n or Esc cancels."
                    )
                )

    def action_close(self) -> None:
        """Back."""
        self.dismiss(None)
