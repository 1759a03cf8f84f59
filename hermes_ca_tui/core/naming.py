"""CA folder names: the web page's sanitising rule, made collision-free."""

from __future__ import annotations

import re
from collections.abc import Callable

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+", re.ASCII)


def sanitise(name: str) -> str:
    """Return the name with every run of non-alphanumeric characters removed.

    This is the appliance's ``ca_directory`` rule (appliance-facts §3.1):
    "My Root CA" becomes ``MyRootCA``.
    """
    return _NOT_ALNUM.sub("", name)


def choose_directory(name: str, taken: Callable[[str], bool]) -> str:
    """Pick the folder for a new CA, never reusing another CA's folder.

    Args:
        name: The CA's common name or import name (already validated).
        taken: Says whether a folder name is in use on disk or in the table.

    Returns:
        ``sanitise(name)``, or that with the smallest numeric suffix from 2 that is free.
        The web page let "My CA" and "MyCA" share one folder (AF §7.4); we never do.
    """
    base = sanitise(name) or "CA"
    if not taken(base):
        return base
    suffix = 2
    while taken(f"{base}{suffix}"):
        suffix += 1
    return f"{base}{suffix}"
