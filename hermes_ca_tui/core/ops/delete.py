"""delete: retire a CA that issued nothing (appliance-facts §1.6, §7.5).

Order, with the database commit as the commit point:

1. journal entry (holds the row, the certificate and the archive path);
2. CipherMail: exactly this certificate's rows are removed (matched by thumbprint);
3. the tree is renamed into ``<ca_root>/.archive/`` (never destroyed: the key survives);
4. one hermes transaction deletes the row and, if it was the default, promotes another;
5. audit; journal entry removed.

A failure before 4 moves the tree back and re-registers the trust entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.audit import operator_name
from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.fsutil import PRIVATE_DIR_MODE, durable_rename, make_dir
from hermes_ca_tui.core.journal import JournalEntry
from hermes_ca_tui.core.ops.common import ca_ref, cert_pem, fingerprints, load_pem, log
from hermes_ca_tui.core.ops.listing import resolve
from hermes_ca_tui.core.store.records import CaRecord
from hermes_ca_tui.core.tree import CaTree


@dataclass(frozen=True)
class DeletePlan:
    """What deleting a CA would do."""

    ca_id: int
    name: str
    directory: str
    issued: int
    was_default: bool
    promote_id: int | None
    promote_name: str | None

    @property
    def refused(self) -> bool:
        """Whether the CA has issued certificates (m=40)."""
        return self.issued > 0

    def as_json(self) -> dict[str, Any]:
        """The plan as JSON."""
        return {
            "id": self.ca_id,
            "name": self.name,
            "issued": self.issued,
            "default": self.was_default,
            "new_default": (
                {"id": self.promote_id, "name": self.promote_name} if self.promote_id else None
            ),
        }


@dataclass(frozen=True)
class DeleteResult:
    """What a delete did."""

    ca_id: int
    name: str
    archive: str | None
    new_default_id: int | None
    new_default_name: str | None


def _plan(ctx: Context, record: CaRecord, others: list[CaRecord]) -> DeletePlan:
    promote = None
    if record.default:
        # The next CA by name becomes default; the web page left none (AF §7.11).
        promote = next((r for r in others if r.id != record.id), None)
    return DeletePlan(
        ca_id=record.id,
        name=record.common_name,
        directory=record.directory,
        issued=record.issued,
        was_default=record.default,
        promote_id=promote.id if promote else None,
        promote_name=promote.common_name if promote else None,
    )


def plan_delete(ctx: Context, ref: str | int) -> DeletePlan:
    """What deleting ``ref`` would do (issued count, the next default)."""
    with ctx.hermes.database.transaction(write=False) as tx:
        record = resolve(ctx, tx, ref)
        others = ctx.hermes.list_cas(tx)
    return _plan(ctx, record, others)


def _archive_path(ctx: Context, directory: str, op_id: str) -> Path:
    return ctx.paths.archive_dir / f"{directory}.{op_id}"


def delete(ctx: Context, ref: str | int) -> DeleteResult:
    """Delete a CA; call under :meth:`Context.locked`.

    Raises:
        CaError: CA_NOT_FOUND, HAS_ISSUED_CERTS (m=40, with the count).
    """
    with ctx.hermes.database.transaction(write=False) as tx:
        record = resolve(ctx, tx, ref)
        others = ctx.hermes.list_cas(tx)
    plan = _plan(ctx, record, others)
    if plan.refused:
        ctx.audit.append(
            "delete",
            f"refused:{Code.HAS_ISSUED_CERTS.name}",
            ca=ca_ref(record.id, record.common_name),
            details={"issued": plan.issued},
        )
        raise CaError(Code.HAS_ISSUED_CERTS, count=plan.issued)
    tree = CaTree.at(ctx.paths.ca_root, record.directory)
    loaded = ctx.certs.get(tree.cert_path)
    cert = loaded[0] if loaded else None
    entry = ctx.journal.begin(
        "delete",
        {
            "ca_id": record.id,
            "name": record.common_name,
            "directory": record.directory,
            "certificate": cert_pem(cert).decode() if cert else None,
            "tree_existed": tree.exists(),
            "promote_id": plan.promote_id,
        },
        now=ctx.clock(),
        operator=operator_name(),
    )
    archive = _archive_path(ctx, record.directory, entry.op_id)
    ctx.journal.update(entry, "begun", archive=str(archive))
    faults.step("delete.journaled")
    committed = False
    try:
        if cert is not None:
            ctx.bridge.unregister(cert)
        faults.step("delete.untrusted")
        if tree.exists():
            make_dir(ctx.paths.archive_dir, PRIVATE_DIR_MODE)
            durable_rename(tree.folder, archive)
        faults.step("delete.archived")
        with ctx.hermes.database.transaction() as tx:
            ctx.hermes.delete_ca(tx, record.id)
            if plan.promote_id is not None:
                ctx.hermes.make_default(tx, plan.promote_id)
        committed = True
        faults.step("delete.committed")
    except BaseException as exc:
        if committed:
            raise
        try:
            undo_delete(ctx, entry.data)
            ctx.journal.finish(entry)
        except Exception:
            log.exception("undo of %s failed; the journal entry stays", entry.op_id)
        code = exc.code.name if isinstance(exc, CaError) else type(exc).__name__
        ctx.audit.append(
            "delete",
            f"failed:{code}",
            ca=ca_ref(record.id, record.common_name),
            fingerprints=fingerprints(cert),
        )
        raise
    ctx.audit.append(
        "delete",
        "ok",
        ca=ca_ref(record.id, record.common_name),
        fingerprints=fingerprints(cert),
        details={
            "archive": str(archive) if entry.data["tree_existed"] else None,
            "new_default": plan.promote_id,
        },
    )
    ctx.journal.finish(entry)
    return DeleteResult(
        ca_id=record.id,
        name=record.common_name,
        archive=str(archive) if entry.data["tree_existed"] else None,
        new_default_id=plan.promote_id,
        new_default_name=plan.promote_name,
    )


def undo_delete(ctx: Context, data: dict[str, Any]) -> None:
    """Move the tree back and trust the certificate again."""
    tree = CaTree.at(ctx.paths.ca_root, str(data["directory"]))
    archive = Path(str(data.get("archive") or ""))
    if data.get("archive") and archive.exists() and not tree.folder.exists():
        durable_rename(archive, tree.folder)
    if data.get("certificate"):
        cm_id = ctx.bridge.register(load_pem(str(data["certificate"])))
        # Trust given back after its rows were removed lives in a new ``cm_certificates``
        # row (a new id): the CA's row must point at it, or the undo leaves drift.
        with ctx.hermes.database.transaction() as tx:
            record = ctx.hermes.get_ca(tx, int(data["ca_id"]))
            if (
                record is not None
                and record.directory == data["directory"]
                and record.djigzo_id != cm_id
            ):
                ctx.hermes.set_djigzo_id(tx, record.id, cm_id)


def _committed(ctx: Context, data: dict[str, Any]) -> bool:
    with ctx.hermes.database.transaction(write=False) as tx:
        record = ctx.hermes.get_ca(tx, int(data["ca_id"]))
    return record is None or record.directory != data["directory"]


def recover_delete(ctx: Context, entry: JournalEntry) -> str:
    """Finish or undo a delete left by a dead process."""
    data = entry.data
    if _committed(ctx, data):
        if data.get("certificate"):
            ctx.bridge.unregister(load_pem(str(data["certificate"])))
        tree = CaTree.at(ctx.paths.ca_root, str(data["directory"]))
        archive = Path(str(data.get("archive") or ""))
        if data.get("archive") and tree.exists() and not archive.exists():
            make_dir(ctx.paths.archive_dir, PRIVATE_DIR_MODE)
            durable_rename(tree.folder, archive)
        outcome = "recovered-forward"
    else:
        undo_delete(ctx, data)
        outcome = "rolled-back"
    ctx.audit.append(
        "delete",
        outcome,
        ca=ca_ref(data.get("ca_id"), data.get("name")),
        details={"op_id": entry.op_id, "phase": entry.phase},
        operator=entry.operator or None,
    )
    ctx.journal.finish(entry)
    return outcome
