"""Modal dialogs: the error modal and the confirmation modal.

Destructive confirmations focus Cancel; ``y`` confirms, ``n`` and Escape cancel. Every
text shown is a ``rich.text.Text``, so a CN or a path is never read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from hermes_ca_tui.messages import Described

Body = Sequence[Text | str]


def _text(line: Text | str) -> Text:
    return line if isinstance(line, Text) else Text(line)


class ErrorModal(ModalScreen[None]):
    """A refusal or failure, in words, with its code (and the web page's m number)."""

    BINDINGS = [
        Binding("escape", "dismiss_modal", "Close", show=False),
        Binding("enter", "dismiss_modal", "Close", show=False),
        Binding("o", "dismiss_modal", "OK", show=False),
    ]

    def __init__(self, described: Described) -> None:
        super().__init__(classes="dialog-screen")
        self.described = described

    def compose(self) -> ComposeResult:
        """Heading, text, code, OK."""
        d = self.described
        code = f"{d.code}, m={d.m}" if d.m is not None else d.code
        with Vertical(classes="dialog -error", id="error-dialog"):
            yield Static(Text(d.heading, style="bold"), classes="dialog-title")
            yield Static(Text(d.text), classes="dialog-body")
            yield Static(Text(f"({code})"), classes="dialog-code")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        """Focus OK."""
        self.query_one("#ok", Button).focus()

    def action_dismiss_modal(self) -> None:
        """Close."""
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """OK closes."""
        event.stop()
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """Ask before a change. Cancel has the focus; ``y`` confirms, ``n``/Escape cancel.

    Args:
        title: What is about to happen.
        body: The facts the operator decides on.
        confirm: The confirm button's label.
        danger: Style the confirm button as destructive.
        can_confirm: ``False`` shows only a Close button (a refusal explained).
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", show=False),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(
        self,
        title: str,
        body: Body,
        *,
        confirm: str = "Confirm",
        danger: bool = False,
        can_confirm: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen", id=id)
        self.title_text = title
        self.body = [_text(line) for line in body]
        self.confirm_label = confirm
        self.danger = danger
        self.can_confirm = can_confirm

    def compose(self) -> ComposeResult:
        """Title, facts, buttons (Cancel first)."""
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                for line in self.body:
                    yield Static(line)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel" if self.can_confirm else "Close", id="cancel", compact=True)
                if self.can_confirm:
                    yield Button(
                        f"{self.confirm_label} (y)",
                        id="confirm",
                        variant="error" if self.danger else "primary",
                        compact=True,
                    )

    def on_mount(self) -> None:
        """Cancel has the focus: Enter alone never confirms a destructive action."""
        self.query_one("#cancel", Button).focus()

    def action_answer(self, answer: bool) -> None:
        """Close with the answer (``y`` is ignored when nothing can be confirmed)."""
        self.dismiss(answer and self.can_confirm)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Buttons answer too."""
        event.stop()
        self.dismiss(event.button.id == "confirm")
