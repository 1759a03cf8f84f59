"""hermes-ca-tui: manage the internal S/MIME certificate authorities of a Hermes gateway."""

from __future__ import annotations

__version__ = "0.1.0"
