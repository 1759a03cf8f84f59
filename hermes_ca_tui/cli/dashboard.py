"""Starting the dashboard from the command line."""

from __future__ import annotations

import argparse

from hermes_ca_tui.cli import render
from hermes_ca_tui.core.session import Profile, open_service


def run_dashboard(profile: Profile, args: argparse.Namespace) -> int:
    """Show the CAs (the Textual dashboard replaces this text view)."""
    service = open_service(profile)
    try:
        print(f"hermes-ca-tui — {profile.label}")
        print(render.ca_table(service.list_cas()))
        print("\nRun `hermes-ca-tui --help` for the commands.")
    finally:
        service.close()
    return 0
