"""Helpers for appliance-style runs: a TOML configuration, the CLI without ``--data-dir``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hermes_ca_tui.core.config import CONFIG_ENV, ENV_PREFIX
from hermes_ca_tui.core.session import Profile
from tests.support import REPO


def toml_value(value: object) -> str:
    """A TOML literal for a string, number, bool or list of strings (JSON strings are TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def write_config(path: Path, top: Mapping[str, Any], **tables: Mapping[str, Any]) -> Path:
    """Write a TOML file: top-level keys, then one ``[table]`` per keyword."""
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def profile_config(path: Path, profile: Profile, **top: Any) -> Path:
    """A configuration file describing ``profile`` (bridge in its mode), plus extra keys."""
    return write_config(
        path,
        {
            "ca_root": str(profile.ca_root),
            "security_conf": str(profile.security_conf),
            "audit_log": str(profile.audit_log),
            **top,
        },
        database={"hermes": profile.hermes_url, "djigzo": profile.djigzo_url},
        ciphermail={"mode": profile.bridge_mode},
    )


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``HERMES_CA_TUI_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX) and k != CONFIG_ENV}
    env.update(extra or {})
    return env


# Runs the CLI with DEFAULT_CONFIG_PATH moved (argv[1]), so that no test depends on, or
# creates, the real /opt/hermes/config/hermes-ca-tui.toml.
_MOVED_DEFAULT = (
    "import sys\n"
    "from pathlib import Path\n"
    "import hermes_ca_tui.core.config as config\n"
    "config.DEFAULT_CONFIG_PATH = Path(sys.argv[1])\n"
    "from hermes_ca_tui.cli.main import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def run_app(
    *args: str,
    env: Mapping[str, str] | None = None,
    default_config: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hermes_ca_tui ARGS`` as on the appliance (no ``--data-dir`` added).

    Args:
        args: The command line.
        env: Added to this process's environment, from which every ``HERMES_CA_TUI_*``
            variable is removed first.
        default_config: Where the default configuration path points in that run.
        timeout: Seconds before the run is killed.
    """
    argv = (
        [sys.executable, "-c", _MOVED_DEFAULT, str(default_config), *args]
        if default_config is not None
        else [sys.executable, "-m", "hermes_ca_tui", *args]
    )
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=clean_env(env),
        cwd=REPO,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
