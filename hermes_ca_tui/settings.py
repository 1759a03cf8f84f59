"""Dashboard settings: the ``[tui]`` table of the configuration file.

```toml
[tui]
vt = "auto"          # true, false or "auto" (TERM=linux or a 16-colour terminal)
mouse = true
animations = false
cursor_blink = false
[tui.keys]           # binding id = "key" (comma-separate several keys)
create = "c"
delete = "x,delete"
```
Binding ids: create, import, set_default, renew, delete, export, details, doctor, filter,
refresh, help, quit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hermes_ca_tui.core.errors import CaError, Code

BINDING_IDS = (
    "create",
    "import",
    "set_default",
    "renew",
    "delete",
    "export",
    "details",
    "doctor",
    "filter",
    "refresh",
    "help",
    "quit",
)
"""Every remappable action of the dashboard."""


@dataclass(frozen=True)
class TuiSettings:
    """How the dashboard looks and which keys it answers to."""

    vt: bool | None = None
    mouse: bool = True
    animations: bool = False
    cursor_blink: bool = False
    keys: dict[str, str] = field(default_factory=dict)


def _flag(table: dict[str, Any], name: str, default: bool, path: Path) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise CaError(Code.CONFIG_INVALID, reason=f"{path}: [tui] {name} must be true or false")
    return value


def settings_from_table(table: dict[str, Any], path: Path) -> TuiSettings:
    """Validate a ``[tui]`` table.

    Raises:
        CaError: CONFIG_INVALID naming the file and the key.
    """
    unknown = set(table) - {"vt", "mouse", "animations", "cursor_blink", "keys"}
    if unknown:
        raise CaError(
            Code.CONFIG_INVALID,
            reason=f"{path}: unknown [tui] key(s): {', '.join(sorted(unknown))}",
        )
    vt_value = table.get("vt", "auto")
    if vt_value == "auto":
        vt: bool | None = None
    elif isinstance(vt_value, bool):
        vt = vt_value
    else:
        raise CaError(Code.CONFIG_INVALID, reason=f'{path}: [tui] vt must be true, false or "auto"')
    keys = table.get("keys", {})
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in keys.items()
    ):
        raise CaError(Code.CONFIG_INVALID, reason=f"{path}: [tui.keys] maps ids to key strings")
    bad = sorted(set(keys) - set(BINDING_IDS))
    if bad:
        raise CaError(
            Code.CONFIG_INVALID,
            reason=(
                f"{path}: unknown binding id(s) {', '.join(bad)}; known: {', '.join(BINDING_IDS)}"
            ),
        )
    return TuiSettings(
        vt=vt,
        mouse=_flag(table, "mouse", True, path),
        animations=_flag(table, "animations", False, path),
        cursor_blink=_flag(table, "cursor_blink", False, path),
        keys={k: v.replace(" ", "") for k, v in keys.items()},
    )
