"""A labelled form field with its message line underneath."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static


class FormField(Vertical):
    """A label, a control, and a line that shows why the value is refused.

    Args:
        label: The field's name.
        control: The input (or select/checkbox) it wraps.
        hint: Shown under the control while there is no error.
    """

    DEFAULT_CSS = """
    FormField { height: auto; }
    FormField > .field-message { height: auto; color: $text-muted; }
    FormField > .field-message.-error { color: $error; text-style: bold; }
    """

    def __init__(
        self, label: str, control: Widget, *, hint: str = "", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.control = control
        self.hint = hint

    def compose(self) -> ComposeResult:
        """Label, control, message."""
        yield Label(self.label, classes="field-label")
        yield self.control
        yield Static(Text(self.hint), classes="field-message")

    @property
    def message(self) -> Static:
        """The line under the control."""
        return self.query_one(".field-message", Static)

    def show_error(self, text: str | None) -> None:
        """Show an error (never parsed as markup), or the hint again with ``None``."""
        line = self.message
        line.update(Text(text if text else self.hint))
        line.set_class(bool(text), "-error")
        if isinstance(self.control, Input):
            self.control.set_class(bool(text), "-invalid")

    @property
    def has_error(self) -> bool:
        """Whether an error is showing."""
        return self.message.has_class("-error")
