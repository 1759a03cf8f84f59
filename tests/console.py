"""What a Linux console font can draw: the allow-list the VT-mode tests check against.

A console font holds 256 or 512 glyphs. The allow-list is:

* printable ASCII (U+0020-U+007E);
* single- and double-line box drawing: ``─│┌┐└┘├┤┬┴┼`` and ``═║╔╗╚╝╠╣╦╩╬``;
* the blocks ``█▀▄▌▐░▒▓`` (full, upper/lower/left/right half, three shades);
* the CP437 arrows ``▲▼``.

The kernel's built-in CP437 font has every one of them, and textual-guide §2.10 lists
them as what the console fonts in the issues have. The appliance's own console font
could not be checked (textual-guide §5). Not allowed: eighth blocks (``▁▊▔▏``), round or
heavy corners, ``▶`` ``●`` ``…`` ``⭘`` and emoji. A console shows those as a replacement
character (a diamond or ``?``).
"""

from __future__ import annotations

import html
import re

CONSOLE_SAFE = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]
    + list("─│┌┐└┘├┤┬┴┼")  # single-line box drawing
    + list("═║╔╗╚╝╠╣╦╩╬")  # double-line box drawing
    + list("█▀▄▌▐░▒▓")  # blocks and shades
    + list("▲▼")  # CP437 arrows
)
"""Characters a Linux console font (256/512 glyphs) is sure to have."""


def unsafe(screen: str) -> list[str]:
    """The characters of ``screen`` a console font may lack (line breaks aside)."""
    return sorted({c for c in screen if c != "\n" and c not in CONSOLE_SAFE})


def svg_text(svg: str) -> str:
    """The terminal text of a Textual SVG screenshot (its ``<text>`` runs, one per line)."""
    runs = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    return "\n".join(html.unescape(run).replace("\xa0", " ") for run in runs)
