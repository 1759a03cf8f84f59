"""The command-line edge: argument parsing, human and JSON output, exit codes."""

from __future__ import annotations
