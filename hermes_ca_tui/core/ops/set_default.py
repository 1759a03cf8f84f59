"""set-default: exactly one default CA, in one transaction (appliance-facts §1.4, §7.11)."""

from __future__ import annotations

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.audit import operator_name
from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.journal import JournalEntry
from hermes_ca_tui.core.ops.common import ca_ref
from hermes_ca_tui.core.ops.listing import resolve


def set_default(ctx: Context, ref: str | int) -> tuple[int, list[int]]:
    """Make one CA the default; call under :meth:`Context.locked`.

    Returns:
        The CA's id and the ids that were default before.

    Raises:
        CaError: CA_NOT_FOUND (the web page accepted any id and left no default).
    """
    with ctx.hermes.database.transaction(write=False) as tx:
        record = resolve(ctx, tx, ref)
        previous = ctx.hermes.default_ids(tx)
    if previous == [record.id]:
        ctx.audit.append(
            "set-default",
            "ok",
            ca=ca_ref(record.id, record.common_name),
            details={"unchanged": True},
        )
        return record.id, previous
    entry = ctx.journal.begin(
        "set-default",
        {"ca_id": record.id, "name": record.common_name, "previous": previous},
        now=ctx.clock(),
        operator=operator_name(),
    )
    faults.step("set_default.journaled")
    try:
        with ctx.hermes.database.transaction() as tx:
            if ctx.hermes.get_ca(tx, record.id) is None:
                raise CaError(Code.CA_NOT_FOUND, ref=str(ref))
            ctx.hermes.make_default(tx, record.id)
        faults.step("set_default.committed")
    except BaseException as exc:
        ctx.journal.finish(entry)  # one transaction: nothing to undo
        code = exc.code.name if isinstance(exc, CaError) else type(exc).__name__
        ctx.audit.append("set-default", f"failed:{code}", ca=ca_ref(record.id, record.common_name))
        raise
    ctx.audit.append(
        "set-default",
        "ok",
        ca=ca_ref(record.id, record.common_name),
        details={"previous": previous},
    )
    ctx.journal.finish(entry)
    return record.id, previous


def recover_set_default(ctx: Context, entry: JournalEntry) -> str:
    """A set-default either committed or not; record which."""
    with ctx.hermes.database.transaction(write=False) as tx:
        now_default = ctx.hermes.default_ids(tx)
    outcome = "recovered-forward" if now_default == [entry.data["ca_id"]] else "rolled-back"
    ctx.audit.append(
        "set-default",
        outcome,
        ca=ca_ref(entry.data.get("ca_id"), entry.data.get("name")),
        details={"op_id": entry.op_id, "previous": entry.data.get("previous")},
        operator=entry.operator or None,
    )
    ctx.journal.finish(entry)
    return outcome
