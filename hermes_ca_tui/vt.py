"""The Linux-console mode: an ANSI theme and only glyphs a console font has.

A Linux VT font holds 256-512 glyphs: ASCII, single and double box drawing, the half and
full blocks, and a few CP437 symbols. Textual's defaults use eighth blocks, round corners
and arrows that such a font lacks, so under ``TERM=linux``, a 16-colour terminal or
``--vt`` the app switches to this theme, adds the ``-vt`` CSS class (safe borders, see
``styles/app.tcss``) and draws scrollbars with plain cells.
"""

from __future__ import annotations

import os
from typing import ClassVar

from textual.scrollbar import ScrollBarRender
from textual.theme import Theme

VT_THEME = Theme(
    name="hermes-vt",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    accent="ansi_cyan",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_white",
        # ansi-dark draws blurred borders in black: invisible on a black console.
        "border-blurred": "ansi_bright_black",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_white",
        "input-cursor-background": "ansi_white",
        "input-cursor-foreground": "ansi_black",
        "input-cursor-text-style": "none",
        "input-selection-background": "ansi_bright_blue",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_bright_blue",
        "screen-selection-foreground": "ansi_black",
        "footer-key-foreground": "ansi_bright_white",
    },
)
"""The theme of VT mode: plain SGR 30-37/90-97 on the terminal's own background."""

NORMAL_THEME = "textual-dark"
"""The theme otherwise (fixed, so screenshots do not depend on a user's choice)."""

SAFE_KEY_NAMES = {
    "enter": "Enter",
    "escape": "Esc",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "backspace": "Bksp",
    "delete": "Del",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "shift+tab": "Shift+Tab",
    "tab": "Tab",
    "space": "Space",
    "question_mark": "?",
    "slash": "/",
}
"""ASCII names for keys Textual would show with arrows or symbols."""


class VtScrollBarRender(ScrollBarRender):
    """Scrollbars drawn with blank cells and colour only (no eighth blocks)."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "]
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "]


def console_is_vt(color_system: str | None, env: dict[str, str] | None = None) -> bool:
    """Whether the terminal looks like a Linux console or another 16-colour terminal."""
    environ = os.environ if env is None else env
    if environ.get("TERM", "") == "linux":
        return True
    return color_system in ("standard", "windows")
