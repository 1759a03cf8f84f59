"""The operations of PRODUCT §3, one module each; :mod:`hermes_ca_tui.core.service` fronts them."""

from __future__ import annotations
