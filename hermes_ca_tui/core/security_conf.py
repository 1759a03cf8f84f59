"""``security.conf``: the appliance's switch for CA downloads (appliance-facts §8).

The web page searched the whole file with an unanchored regex, so ``#ALLOW_CA_DOWNLOAD=yes``
and ``ALLOW_CA_DOWNLOAD=yesno`` enabled downloads. Here the file is parsed line by line:
comments are ignored, the key must match exactly, the value must be exactly ``yes``
(any case), the last occurrence wins, and a missing or unreadable file means "no".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CA_DOWNLOAD_KEY = "ALLOW_CA_DOWNLOAD"

DEFAULT_CONTENT = b"""\
# Security-sensitive features, enabled only from the command line (Default: no).
# Internal CA certificate and private key downloads, for backup purposes.
# WARNING: the private key is highly sensitive.
ALLOW_CA_DOWNLOAD=no
"""


@dataclass(frozen=True)
class DownloadGate:
    """Whether CA downloads are allowed, and why."""

    allowed: bool
    path: Path
    reason: str


def read_setting(path: Path, key: str) -> str | None:
    """The value of ``key`` in a shell-style ``KEY=value`` file; last one wins."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    value: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, rest = line.partition("=")
        if name.strip() != key:
            continue
        rest = rest.strip()
        if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'":
            rest = rest[1:-1]
        value = rest
    return value


def download_gate(path: Path) -> DownloadGate:
    """Read the switch now (it is re-read at every action, never cached)."""
    value = read_setting(path, CA_DOWNLOAD_KEY)
    if value is None:
        reason = (
            f"{CA_DOWNLOAD_KEY} is not set in {path}"
            if Path(path).exists()
            else (f"{path} does not exist")
        )
        return DownloadGate(False, Path(path), reason)
    if value.lower() == "yes":
        return DownloadGate(True, Path(path), f"{CA_DOWNLOAD_KEY}=yes in {path}")
    return DownloadGate(False, Path(path), f"{CA_DOWNLOAD_KEY}={value} in {path}")
