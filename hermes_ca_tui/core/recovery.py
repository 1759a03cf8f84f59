"""Start-up recovery: resolve the journal entries of operations whose process died.

Called with the operation lock held, so every entry found belongs to a dead process.
Each entry is rolled forward when its database transaction committed and rolled back
otherwise; an entry whose store is unreachable stays for the next start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError
from hermes_ca_tui.core.fsutil import remove_tree
from hermes_ca_tui.core.journal import JournalEntry
from hermes_ca_tui.core.ops.common import log
from hermes_ca_tui.core.ops.delete import recover_delete
from hermes_ca_tui.core.ops.placement import recover_new_ca
from hermes_ca_tui.core.ops.renew import recover_renew
from hermes_ca_tui.core.ops.set_default import recover_set_default

_HANDLERS: dict[str, Callable[[Context, JournalEntry], str]] = {
    "create": recover_new_ca,
    "import": recover_new_ca,
    "renew": recover_renew,
    "delete": recover_delete,
    "set-default": recover_set_default,
}


@dataclass(frozen=True)
class Recovered:
    """What recovery did with one journal entry."""

    op_id: str
    operation: str
    outcome: str
    error: str | None = None


def recover(ctx: Context) -> list[Recovered]:
    """Resolve every pending entry; call with :meth:`Context.locked` held."""
    results: list[Recovered] = []
    for entry in ctx.journal.pending():
        handler = _HANDLERS.get(entry.operation)
        if handler is None:
            results.append(Recovered(entry.op_id, entry.operation, "unknown", "unknown operation"))
            continue
        try:
            outcome = handler(ctx, entry)
        except CaError as exc:
            log.warning("recovery of %s postponed: %s", entry.op_id, exc)
            results.append(Recovered(entry.op_id, entry.operation, "pending", exc.code.name))
            continue
        results.append(Recovered(entry.op_id, entry.operation, outcome))
    _sweep_staging(ctx)
    return results


def _sweep_staging(ctx: Context) -> None:
    """Staging folders without a journal entry are leftovers of finished operations."""
    staging = ctx.paths.staging_dir
    if not staging.is_dir():
        return
    live = {e.op_id for e in ctx.journal.pending()}
    for folder in staging.iterdir():
        if folder.name not in live:
            remove_tree(folder)
