"""Whether each store can be reached right now (TUI header, ``config check``)."""

from __future__ import annotations

from dataclasses import dataclass

from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError
from hermes_ca_tui.core.store.database import Database


@dataclass(frozen=True)
class StoreHealth:
    """One store's reachability.

    Attributes:
        name: ``hermes``, ``djigzo`` or ``ciphermail``.
        ok: Whether it answered.
        detail: What it is (engine, mode) or why it failed.
    """

    name: str
    ok: bool
    detail: str


def _database(name: str, database: Database) -> StoreHealth:
    try:
        with database.transaction(write=False) as tx:
            tx.scalar("SELECT 1")
    except CaError as exc:
        return StoreHealth(name, False, str(exc.params.get("reason", exc.code.name)))
    return StoreHealth(name, True, database.dialect.name)


def check_stores(ctx: Context) -> list[StoreHealth]:
    """Ask each store for a sign of life; never raises."""
    result = [
        _database("hermes", ctx.hermes.database),
        _database("djigzo", ctx.bridge.djigzo.database),
    ]
    try:
        ctx.bridge.importer.check()
    except CaError as exc:
        result.append(
            StoreHealth("ciphermail", False, str(exc.params.get("reason", exc.code.name)))
        )
    else:
        result.append(StoreHealth("ciphermail", True, ctx.bridge.describe()))
    return result
