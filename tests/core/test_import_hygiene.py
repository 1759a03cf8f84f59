"""The core never imports Textual or Rich: the CLI and scripts use it without the UI."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import hermes_ca_tui.core as core

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(core.__path__, prefix="hermes_ca_tui.core.")
)


def test_core_has_modules_to_check() -> None:
    assert "hermes_ca_tui.core.service" in CORE_MODULES
    assert len(CORE_MODULES) > 20


def test_core_modules_import_without_textual_or_rich() -> None:
    probe = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_cli_headless_commands_do_not_load_textual() -> None:
    probe = (
        "import sys\n"
        "import hermes_ca_tui.cli.main\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
