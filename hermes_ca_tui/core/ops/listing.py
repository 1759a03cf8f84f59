"""list and show: each CA seen in its row, its tree and CipherMail."""

from __future__ import annotations

from collections.abc import Mapping

from hermes_ca_tui.core.certinfo import CertFacts
from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.store.database import Tx
from hermes_ca_tui.core.store.records import CaRecord, TrustEntry
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.trust.state import TrustState, trust_state
from hermes_ca_tui.core.views import CaDetails, CaSummary, days_left


def resolve(ctx: Context, tx: Tx, ref: str | int) -> CaRecord:
    """Find a CA by numeric id or by name (case-insensitive).

    A numeric reference is tried as an id first, then as a name ("2024" is a valid name).

    Raises:
        CaError: CA_NOT_FOUND.
    """
    text = str(ref).strip()
    if text.isdigit():
        record = ctx.hermes.get_ca(tx, int(text))
        if record is not None:
            return record
    matches = ctx.hermes.find_by_name(tx, text)
    if not matches:
        raise CaError(Code.CA_NOT_FOUND, ref=text)
    return matches[0]


def _trust_index(ctx: Context, thumbprints: list[str]) -> Mapping[str, TrustEntry] | None:
    try:
        return ctx.bridge.trust_entries(thumbprints)
    except CaError:
        # CipherMail's database is unreachable: everything else still works (recovery mode).
        return None


def summarise(
    ctx: Context,
    record: CaRecord,
    facts: CertFacts | None,
    trust: Mapping[str, TrustEntry] | None,
) -> CaSummary:
    """Build the table row of one CA from its record, its certificate's facts and trust."""
    now = ctx.clock()
    if facts is None:
        tree = CaTree.at(ctx.paths.ca_root, record.directory)
        problem = "CA folder missing" if not tree.exists() else "certificate missing or unreadable"
        return CaSummary(
            id=record.id,
            name=record.common_name,
            directory=record.directory,
            imported=record.imported,
            expires=record.expires,
            days_left=None,
            key_bits=int(record.encryption)
            if record.encryption and record.encryption.isdigit()
            else None,
            default=record.default,
            issued=record.issued,
            trust=TrustState.UNKNOWN if trust is None else TrustState.MISSING,
            serial=None,
            sha256=None,
            sha1=None,
            problem=problem,
        )
    entry = None if trust is None else trust.get(facts.thumbprint)
    state = TrustState.UNKNOWN if trust is None else trust_state(entry)
    return CaSummary(
        id=record.id,
        name=record.common_name,
        directory=record.directory,
        imported=record.imported,
        expires=facts.not_after.date(),
        days_left=days_left(facts.not_after, now),
        key_bits=facts.key_bits,
        default=record.default,
        issued=record.issued,
        trust=state,
        serial=facts.serial_hex,
        sha256=facts.sha256,
        sha1=facts.sha1,
        problem=None,
    )


def list_cas(ctx: Context) -> list[CaSummary]:
    """Every CA, sorted by name: one hermes statement, one or two djigzo statements."""
    with ctx.hermes.database.transaction(write=False) as tx:
        records = ctx.hermes.list_cas(tx)
    facts = [_facts(ctx, r) for r in records]
    thumbprints = [f.thumbprint for f in facts if f is not None]
    trust = _trust_index(ctx, thumbprints) if records else {}
    return [summarise(ctx, r, f, trust) for r, f in zip(records, facts, strict=True)]


def _facts(ctx: Context, record: CaRecord) -> CertFacts | None:
    loaded = ctx.certs.get(CaTree.at(ctx.paths.ca_root, record.directory).cert_path)
    return loaded[1] if loaded else None


def show(ctx: Context, ref: str | int) -> CaDetails:
    """Everything about one CA."""
    with ctx.hermes.database.transaction(write=False) as tx:
        record = resolve(ctx, tx, ref)
    tree = CaTree.at(ctx.paths.ca_root, record.directory)
    loaded = ctx.certs.get(tree.cert_path)
    trust = _trust_index(ctx, [loaded[1].thumbprint] if loaded else [])
    summary = summarise(ctx, record, loaded[1] if loaded else None, trust)
    chain = tuple(c.subject.rfc4514_string() for c in tree.read_chain()[1:])
    return CaDetails(
        summary=summary,
        facts=loaded[1] if loaded else None,
        tree=str(tree.root),
        row_expires=record.expires,
        djigzo_id=record.djigzo_id,
        chain=chain,
        record=record,
    )
