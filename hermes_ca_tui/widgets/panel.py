"""A Collapsible without the ``:focus-within`` tint.

Textual restyles the whole subtree of the outermost ancestor that has a ``:focus-within``
rule on every focus change. Collapsible's default tint made each Tab in a form restyle
every field of it (about 90 widgets, tens of milliseconds on a 2-core appliance), so the
panels here carry the same rules minus that one.
"""

from __future__ import annotations

from textual.widgets import Collapsible


class Panel(Collapsible, inherit_css=False):
    """A collapsible form panel."""

    DEFAULT_CSS = """
    Panel {
        width: 1fr;
        height: auto;
        background: $surface;
        padding-bottom: 1;
        padding-left: 1;

        &.-collapsed > Contents {
            display: none;
        }
        &:ansi {
            background: $panel;
        }
    }
    """
