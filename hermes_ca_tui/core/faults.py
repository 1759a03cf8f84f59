"""Crash points: named steps where a test can make the process die with SIGKILL.

Operations call :func:`step` between their durable steps. When the environment variable
``HERMES_CA_TUI_CRASH_AT`` names that step, the process kills itself on the spot, the
way a power cut or ``kill -9`` would. Unset (always, outside the crash tests), a step
costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "HERMES_CA_TUI_CRASH_AT"

STEPS: dict[str, tuple[str, ...]] = {
    "create": (
        "create.journaled",
        "create.tree_staged",
        "create.tree_placed",
        "create.trusted",
        "create.committed",
    ),
    "import": (
        "import.journaled",
        "import.tree_staged",
        "import.tree_placed",
        "import.trusted",
        "import.committed",
    ),
    "renew": (
        "renew.journaled",
        "renew.history_saved",
        "renew.cert_written",
        "renew.chain_written",
        "renew.new_trusted",
        "renew.committed",
        "renew.old_untrusted",
    ),
    "delete": (
        "delete.journaled",
        "delete.untrusted",
        "delete.archived",
        "delete.committed",
    ),
    "set-default": (
        "set_default.journaled",
        "set_default.committed",
    ),
}
"""Every crash point, per operation, in the order the operation passes them."""


def step(name: str) -> None:
    """Mark a step; die here if the crash tests asked for it."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
