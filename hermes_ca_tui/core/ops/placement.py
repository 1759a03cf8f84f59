"""Putting a new CA into the three stores, for create and import alike.

Order, with the database commit as the single commit point:

1. journal entry (durable);
2. the complete tree is written into a staging folder, then renamed into place;
3. CipherMail: the certificate becomes a whitelisted root;
4. one hermes transaction inserts the row (and moves the default);
5. audit record, journal entry removed.

Any failure before 4 undoes 3 and 2; a crash before 4 is undone the same way at the next
start. After 4 the operation is complete, whatever happens to the bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.audit import operator_name
from hermes_ca_tui.core.certinfo import certificate_facts, spki_sha256, thumbprint
from hermes_ca_tui.core.context import ARCHIVE_DIR, STATE_DIR, Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.fsutil import durable_rename, remove_tree
from hermes_ca_tui.core.journal import JournalEntry
from hermes_ca_tui.core.keys import key_pem
from hermes_ca_tui.core.naming import choose_directory
from hermes_ca_tui.core.ops.common import ca_ref, cert_pem, certs_pem, fingerprints, log
from hermes_ca_tui.core.store.database import Tx
from hermes_ca_tui.core.store.records import NewCaRow
from hermes_ca_tui.core.tree import CaTree, write_tree
from hermes_ca_tui.core.validation import same_name


@dataclass(frozen=True)
class RowValues:
    """The row columns that differ between create and import (appliance-facts §1.2–1.3)."""

    validity: str
    encryption: str
    organization: str
    unit: str
    state: str
    country: str
    applied: int
    djigzo_subject: str | None


@dataclass(frozen=True)
class NewCa:
    """A CA ready to be placed: validated, its certificate built or read."""

    operation: str
    name: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    row: RowValues
    make_default: bool

    def __repr__(self) -> str:  # keep the key out of tracebacks and logs
        return f"NewCa(operation={self.operation!r}, name={self.name!r})"


def _existing_folders(ctx: Context) -> set[str]:
    root = ctx.paths.ca_root
    if not root.is_dir():
        return set()
    return {p.name.lower() for p in root.iterdir() if p.name not in (STATE_DIR, ARCHIVE_DIR)}


def check_name_free(ctx: Context, tx: Tx, name: str) -> None:
    """Refuse a name another CA has (ignoring case and trailing spaces), m=18."""
    for record in ctx.hermes.find_by_name(tx, name):
        if same_name(record.common_name, name):
            raise CaError(Code.DUPLICATE_NAME, field="name", name=name)


def check_key_free(ctx: Context, tx: Tx, key_hash: str) -> None:
    """Refuse a key that another CA already uses (importing the same CA twice)."""
    for record in ctx.hermes.list_cas(tx):
        loaded = ctx.certs.get(CaTree.at(ctx.paths.ca_root, record.directory).cert_path)
        if loaded and loaded[1].spki_sha256 == key_hash:
            raise CaError(Code.CA_KEY_EXISTS, name=record.common_name)


def place_new_ca(ctx: Context, new: NewCa) -> int:
    """Place a validated CA in the three stores; call under :meth:`Context.locked`.

    Returns:
        The new row's id.

    Raises:
        CaError: DUPLICATE_NAME, CA_KEY_EXISTS, or whatever made a store refuse; in every
            case nothing is left behind.
    """
    op = new.operation
    with ctx.hermes.database.transaction(write=False) as tx:
        check_name_free(ctx, tx, new.name)
        check_key_free(ctx, tx, spki_sha256(new.certificate))
        taken = ctx.hermes.directories(tx) | _existing_folders(ctx)
    directory = choose_directory(new.name, lambda d: d.lower() in taken)
    tp = thumbprint(new.certificate)
    # CipherMail may know the certificate already (imported by hand, or by an earlier
    # attempt whose CertStore outlived its timeout): an undo gives back exactly that.
    held = ctx.bridge.holding(tp)
    preexisting = bool(held["rows"])
    entry = ctx.journal.begin(
        op,
        {
            "name": new.name,
            "directory": directory,
            "thumbprint": tp,
            "sha256": certificate_facts(new.certificate).sha256,
            "trust_preexisting": preexisting,
            "trust_before": held,
            "certificate": cert_pem(new.certificate).decode(),
        },
        now=ctx.clock(),
        operator=operator_name(),
    )
    faults.step(f"{op}.journaled")
    committed = False
    try:
        tree = CaTree.at(ctx.paths.ca_root, directory)
        staging = ctx.paths.staging_dir / entry.op_id / directory
        write_tree(
            staging,
            tree.root,
            key_pem=key_pem(new.key),
            cert_pem=cert_pem(new.certificate),
            chain_pem=certs_pem([new.certificate, *new.chain]),
        )
        faults.step(f"{op}.tree_staged")
        durable_rename(staging, tree.folder)
        remove_tree(staging.parent)
        faults.step(f"{op}.tree_placed")
        cm_id = ctx.bridge.register(new.certificate)
        faults.step(f"{op}.trusted")
        with ctx.hermes.database.transaction() as tx:
            make_default = new.make_default or not ctx.hermes.default_ids(tx)
            ca_id = ctx.hermes.insert_ca(
                tx,
                NewCaRow(
                    common_name=new.name,
                    directory=directory,
                    validity=new.row.validity,
                    expires=new.certificate.not_valid_after_utc.date(),
                    encryption=new.row.encryption,
                    organization=new.row.organization,
                    unit=new.row.unit,
                    state=new.row.state,
                    country=new.row.country,
                    applied=new.row.applied,
                    default=False,
                    djigzo_id=cm_id,
                    djigzo_subject=new.row.djigzo_subject,
                ),
            )
            if make_default:
                ctx.hermes.make_default(tx, ca_id)
        committed = True
        faults.step(f"{op}.committed")
    except BaseException as exc:
        if committed:
            raise
        _undo_after_failure(ctx, entry, exc)
        raise
    ctx.audit.append(
        op,
        "ok",
        ca=ca_ref(ca_id, new.name),
        fingerprints=fingerprints(new.certificate),
        details={"directory": directory, "default": make_default, "djigzo_id": cm_id},
    )
    ctx.journal.finish(entry)
    return ca_id


def _undo_after_failure(ctx: Context, entry: JournalEntry, exc: BaseException) -> None:
    try:
        undo_new_ca(ctx, entry.data, entry.op_id)
    except Exception:
        log.exception("undo of %s failed; the journal entry stays for recovery", entry.op_id)
        return
    ctx.journal.finish(entry)
    code = exc.code.name if isinstance(exc, CaError) else type(exc).__name__
    ctx.audit.append(
        entry.operation,
        f"failed:{code}",
        ca=ca_ref(None, entry.data.get("name")),
        fingerprints={"sha256": entry.data.get("sha256", "")},
        details={"undone": True},
    )


def is_committed(ctx: Context, data: dict[str, Any]) -> int | None:
    """The id of the row the operation inserted, if its transaction committed."""
    with ctx.hermes.database.transaction(write=False) as tx:
        for record in ctx.hermes.find_by_name(tx, data["name"]):
            if record.directory.lower() == str(data["directory"]).lower():
                return record.id
    return None


def undo_new_ca(ctx: Context, data: dict[str, Any], op_id: str) -> None:
    """Remove what an uncommitted create/import placed: trust entry, tree, staging."""
    tp = str(data["thumbprint"])
    if "trust_before" in data:
        ctx.bridge.restore(tp, dict(data["trust_before"]))
    elif not data.get("trust_preexisting"):
        # An entry written before trust_before existed: what CipherMail held is unknown.
        ctx.bridge.unregister_thumbprint(tp)
    tree = CaTree.at(ctx.paths.ca_root, str(data["directory"]))
    if tree.exists():
        loaded = ctx.certs.get(tree.cert_path)
        # Only ever remove the folder we placed: its certificate is ours.
        if loaded is not None and loaded[1].thumbprint == tp:
            remove_tree(tree.folder)
    remove_tree(ctx.paths.staging_dir / op_id)


def recover_new_ca(ctx: Context, entry: JournalEntry) -> str:
    """Resolve a create/import left by a dead process; returns what was done."""
    ca_id = is_committed(ctx, entry.data)
    if ca_id is not None:
        remove_tree(ctx.paths.staging_dir / entry.op_id)
        outcome = "recovered-forward"
    else:
        undo_new_ca(ctx, entry.data, entry.op_id)
        outcome = "rolled-back"
    ctx.audit.append(
        entry.operation,
        outcome,
        ca=ca_ref(ca_id, entry.data.get("name")),
        fingerprints={"sha256": entry.data.get("sha256", "")},
        details={"op_id": entry.op_id, "phase": entry.phase},
        operator=entry.operator or None,
    )
    ctx.journal.finish(entry)
    return outcome


def expires_of(cert: x509.Certificate) -> date:
    """The row's ``expires``: the certificate's notAfter date (UTC)."""
    return cert.not_valid_after_utc.date()
