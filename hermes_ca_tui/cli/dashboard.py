"""Starting the dashboard from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from hermes_ca_tui.core.config import LoadedConfig
from hermes_ca_tui.core.session import open_service
from hermes_ca_tui.settings import TuiSettings, settings_from_table


def run_dashboard(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Run the Textual app on the configured profile; returns the exit code.

    Textual draws on the terminal; anything else written there would corrupt the screen,
    so warnings and logs go to the log file (see ``configure_logging``).
    """
    from hermes_ca_tui.app import HermesCaApp  # Textual loads only for the dashboard

    profile = loaded.profile
    table = loaded.tables.get("tui", {})
    settings = settings_from_table(table, loaded.path or Path("tui")) if table else TuiSettings()
    vt = True if args.vt else settings.vt
    app = HermesCaApp(lambda: open_service(profile), label=profile.label, settings=settings, vt=vt)
    mouse = settings.mouse and not args.no_mouse
    result = app.run(mouse=mouse)
    return int(result or 0)
