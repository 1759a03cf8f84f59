"""The Textual dashboard's screens (the UI edge; the core never imports from here)."""

from __future__ import annotations
