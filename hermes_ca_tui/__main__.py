"""``python -m hermes_ca_tui``."""

from __future__ import annotations

from hermes_ca_tui.cli.main import entry

entry()
