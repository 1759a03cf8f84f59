"""The core of hermes-ca-tui: CA lifecycle across the three stores. Never imports Textual."""

from __future__ import annotations
