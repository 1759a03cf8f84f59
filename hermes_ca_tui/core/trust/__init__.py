"""The CipherMail bridge: making a CA certificate a trusted root in CipherMail."""

from __future__ import annotations
