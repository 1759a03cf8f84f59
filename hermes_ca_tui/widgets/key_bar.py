"""The key bar: every key of the screen, wrapped onto a second line when the terminal is narrow.

Textual's Footer is one line that scrolls; on an 80-column console that hides half the
keys. This bar shows them all (disabled ones dimmed), breaking only between keys.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    """The active bindings of the screen, as ``key description`` pairs."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    """

    def on_mount(self) -> None:
        """Follow the screen's bindings."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.render_keys)

    def on_unmount(self) -> None:
        """Stop following."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self.render_keys)

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap for the new width."""
        self.render_keys()

    def items(self) -> list[tuple[str, str, bool]]:
        """(key shown, description, enabled) for each binding to show."""
        seen: set[str] = set()
        out: list[tuple[str, str, bool]] = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = self.app.get_key_display(binding.__class__(key, binding.action))
            out.append((shown, binding.description, active.enabled))
        return out

    def render_keys(self) -> None:
        """Lay the keys out in lines that fit the width."""
        if not self.is_attached:
            # Scheduled before its screen was dismissed: the screen is gone.
            return
        width = max(20, self.size.width - 2)
        text = Text()
        used = 0
        for shown, description, enabled in self.items():
            item = Text()
            item.append(shown, style="bold" if enabled else "dim")
            item.append(f" {description}", style="" if enabled else "dim")
            length = item.cell_len
            if used and used + 2 + length > width:
                text.append("\n")
                used = 0
            elif used:
                text.append("  ")
                used += 2
            text.append_text(item)
            used += length
        self.update(text)
