"""A certificate's trust standing in CipherMail, in one word."""

from __future__ import annotations

import enum

from hermes_ca_tui.core.store.djigzo import ALLOW_EXPIRED_FALSE, ROOTS_STORE, STATUS_WHITELISTED
from hermes_ca_tui.core.store.records import TrustEntry


class TrustState(enum.Enum):
    """How CipherMail treats a CA certificate."""

    TRUSTED = "trusted"
    NOT_WHITELISTED = "not-whitelisted"
    CTL_MISSING = "no-ctl"
    NOT_IN_ROOTS = "not-in-roots"
    MISSING = "missing"
    UNKNOWN = "unknown"


def trust_state(entry: TrustEntry | None) -> TrustState:
    """Classify a trust entry; ``None`` means CipherMail could not be asked."""
    if entry is None:
        return TrustState.UNKNOWN
    if not entry.cm_ids:
        return TrustState.MISSING
    if ROOTS_STORE not in entry.stores:
        return TrustState.NOT_IN_ROOTS
    if entry.ctl_id is None:
        return TrustState.CTL_MISSING
    if (entry.status or "").lower() != STATUS_WHITELISTED or (
        (entry.allow_expired or "").lower() != ALLOW_EXPIRED_FALSE
    ):
        return TrustState.NOT_WHITELISTED
    return TrustState.TRUSTED
