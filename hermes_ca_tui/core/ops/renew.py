"""renew: re-sign a self-signed CA with its own key (appliance-facts §4, pki-and-peers §3.6).

Same key, byte-identical subject, a new random serial, SKI kept, new notAfter = the later
of (current expiry + 5 years) and (now + 1825 days). Before anything is written, every
certificate issued from the tree is checked against the renewed certificate.

Order, with the database commit as the commit point:

1. journal entry (holds the old certificate and chain);
2. the old certificate is kept in ``certs/history/``;
3. ``certs/cacert.pem`` and ``cachain.pem`` are replaced atomically;
4. CipherMail trusts the new certificate (the old one stays trusted: no window without);
5. one hermes transaction records the new expiry and CipherMail id;
6. the old certificate's trust entry is removed; audit; journal entry removed.

A failure before 5 restores the old files and removes the new trust entry. After 5 the
renewal stands; a failure in 6 leaves the journal entry, and the next start finishes it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hermes_ca_tui.core import faults
from hermes_ca_tui.core.audit import operator_name
from hermes_ca_tui.core.certinfo import CertFacts, certificate_facts, common_name, thumbprint
from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError, Code, Notice, WarningCode
from hermes_ca_tui.core.fsutil import PUBLIC_FILE_MODE, atomic_write, make_dir
from hermes_ca_tui.core.journal import JournalEntry
from hermes_ca_tui.core.keys import key_matches, load_stored_key
from hermes_ca_tui.core.ops.common import ca_ref, cert_pem, fingerprints, load_pem, log
from hermes_ca_tui.core.ops.listing import resolve
from hermes_ca_tui.core.profile import (
    RENEW_YEARS,
    add_years,
    renew_certificate,
    renewal_not_after,
    signed_by,
)
from hermes_ca_tui.core.tree import PUBLIC_DIR_MODE, CaTree

_CONFIRM_FREE = (WarningCode.CLIENTS_MUST_UPDATE,)


@dataclass(frozen=True)
class IssuedCheck:
    """How the certificates issued from the tree fare against the renewed certificate."""

    total: int
    chaining: int
    not_chaining: tuple[str, ...]
    aki_names_old_serial: tuple[str, ...]


@dataclass(frozen=True)
class RenewPlan:
    """A renewal computed but not applied: what will change and what it breaks."""

    ca_id: int
    name: str
    directory: str
    current: x509.Certificate
    current_facts: CertFacts
    renewed: x509.Certificate
    renewed_facts: CertFacts
    floor_applied: bool
    issued_rows: int
    issued: IssuedCheck
    warnings: tuple[Notice, ...]

    @property
    def needs_confirmation(self) -> bool:
        """Whether a warning beyond the routine reminder is present."""
        return any(w.code not in _CONFIRM_FREE for w in self.warnings)

    def as_json(self) -> dict[str, Any]:
        """The plan as the CLI's ``--dry-run`` prints it."""
        return {
            "id": self.ca_id,
            "name": self.name,
            "current": {
                "serial": self.current_facts.serial_hex,
                "expires": self.current_facts.not_after.date().isoformat(),
                "sha256": self.current_facts.sha256,
            },
            "renewed": {
                "serial": self.renewed_facts.serial_hex,
                "expires": self.renewed_facts.not_after.date().isoformat(),
                "sha256": self.renewed_facts.sha256,
                "sha1": self.renewed_facts.sha1,
            },
            "floor_applied": self.floor_applied,
            "issued": {
                "rows": self.issued_rows,
                "found": self.issued.total,
                "chaining": self.issued.chaining,
                "not_chaining": list(self.issued.not_chaining),
                "aki_names_old_serial": list(self.issued.aki_names_old_serial),
            },
        }


def chains_to(leaf: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether ``leaf`` verifies as directly issued by ``ca``, AKI included.

    The issuer name must equal the CA's subject byte for byte, the signature must verify,
    and an authority key identifier must name the CA's SKI and, if it carries a serial,
    the CA's serial (as OpenSSL's path building requires).
    """
    if leaf.issuer.public_bytes() != ca.subject.public_bytes():
        return False
    if not signed_by(leaf, ca):
        return False
    try:
        aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return True
    if aki.authority_cert_serial_number is not None and (
        aki.authority_cert_serial_number != ca.serial_number
    ):
        return False
    if aki.key_identifier is not None:
        try:
            ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            return True
        return aki.key_identifier == ski.digest
    return True


def issued_certificates(tree: CaTree, ca: x509.Certificate) -> list[tuple[str, x509.Certificate]]:
    """Certificates in ``newcerts/`` whose issuer is this CA (by name), one per fingerprint."""
    found: dict[bytes, tuple[str, x509.Certificate]] = {}
    folder = tree.root / "newcerts"
    if not folder.is_dir():
        return []
    subject = ca.subject.public_bytes()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.stat().st_size > 1024 * 1024:
            continue
        try:
            cert = x509.load_pem_x509_certificates(path.read_bytes())[0]
        except (OSError, ValueError, IndexError):
            continue
        if cert.issuer.public_bytes() != subject:
            continue
        found.setdefault(cert.fingerprint(hashes.SHA256()), (path.name, cert))
    return list(found.values())


def _label(name: str, cert: x509.Certificate) -> str:
    return common_name(cert) or name


def check_issued(
    leaves: list[tuple[str, x509.Certificate]], current: x509.Certificate, renewed: x509.Certificate
) -> IssuedCheck:
    """Check every leaf against the renewed certificate."""
    not_chaining = []
    aki_old = []
    for name, leaf in leaves:
        if not chains_to(leaf, renewed):
            not_chaining.append(_label(name, leaf))
        try:
            aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
            if aki.authority_cert_serial_number == current.serial_number:
                aki_old.append(_label(name, leaf))
        except x509.ExtensionNotFound:
            pass
    return IssuedCheck(
        total=len(leaves),
        chaining=len(leaves) - len(not_chaining),
        not_chaining=tuple(not_chaining),
        aki_names_old_serial=tuple(aki_old),
    )


def plan_renew(ctx: Context, ref: str | int) -> RenewPlan:
    """Compute the renewal of a CA without writing anything.

    Raises:
        CaError: CA_NOT_FOUND, RENEW_FILES_MISSING (m=44), KEY_MISMATCH,
            RENEW_NOT_SELF_SIGNED.
    """
    with ctx.hermes.database.transaction(write=False) as tx:
        record = resolve(ctx, tx, ref)
    tree = CaTree.at(ctx.paths.ca_root, record.directory)
    try:
        current = tree.read_cert()
    except (OSError, ValueError, IndexError):
        raise CaError(Code.RENEW_FILES_MISSING, path=str(tree.cert_path)) from None
    try:
        key = load_stored_key(tree.key_path.read_bytes())
    except (OSError, CaError):
        raise CaError(Code.RENEW_FILES_MISSING, path=str(tree.key_path)) from None
    if not key_matches(key, current):
        raise CaError(Code.KEY_MISMATCH)
    now = ctx.clock()
    not_after = renewal_not_after(current.not_valid_after_utc, now)
    renewed = renew_certificate(current, key, not_after, now, serial=ctx.new_serial())
    renewed.verify_directly_issued_by(renewed)  # the key signed what we think it signed
    check = check_issued(issued_certificates(tree, current), current, renewed)
    warnings: list[Notice] = []
    if check.aki_names_old_serial:
        warnings.append(
            Notice(
                WarningCode.AKI_NAMES_OLD_SERIAL,
                {
                    "count": len(check.aki_names_old_serial),
                    "names": ", ".join(check.aki_names_old_serial[:10]),
                },
            )
        )
    remaining = [n for n in check.not_chaining if n not in check.aki_names_old_serial]
    if remaining:
        warnings.append(
            Notice(
                WarningCode.ISSUED_NOT_CHAINING,
                {"count": len(remaining), "names": ", ".join(remaining[:10])},
            )
        )
    warnings.append(Notice(WarningCode.CLIENTS_MUST_UPDATE))
    floor = not_after > add_years(current.not_valid_after_utc, RENEW_YEARS).replace(microsecond=0)
    return RenewPlan(
        ca_id=record.id,
        name=record.common_name,
        directory=record.directory,
        current=current,
        current_facts=certificate_facts(current),
        renewed=renewed,
        renewed_facts=certificate_facts(renewed),
        floor_applied=floor,
        issued_rows=record.issued,
        issued=check,
        warnings=tuple(warnings),
    )


def _history_path(tree: CaTree, cert: x509.Certificate) -> Path:
    stamp = cert.not_valid_before_utc.strftime("%Y%m%d")
    return tree.history_dir / f"cacert-{cert.serial_number:X}-{stamp}.pem"


def apply_renew(ctx: Context, plan: RenewPlan, *, accept_warnings: bool) -> list[str]:
    """Apply a renewal plan; call under :meth:`Context.locked`.

    Returns:
        Notes for the operator (for example, a trust clean-up left for the next start).

    Raises:
        CaError: PLAN_STALE if the CA changed since the plan, WARNINGS_NOT_CONFIRMED.
    """
    with ctx.hermes.database.transaction(write=False) as tx:
        record = ctx.hermes.get_ca(tx, plan.ca_id)
    if record is None or record.directory != plan.directory:
        raise CaError(Code.PLAN_STALE)
    tree = CaTree.at(ctx.paths.ca_root, record.directory)
    try:
        on_disk = tree.read_cert()
    except (OSError, ValueError, IndexError):
        raise CaError(Code.RENEW_FILES_MISSING, path=str(tree.cert_path)) from None
    if thumbprint(on_disk) != plan.current_facts.thumbprint:
        raise CaError(Code.PLAN_STALE)
    if plan.needs_confirmation and not accept_warnings:
        raise CaError(
            Code.WARNINGS_NOT_CONFIRMED,
            count=sum(1 for w in plan.warnings if w.code not in _CONFIRM_FREE),
            warnings=", ".join(w.code.value for w in plan.warnings if w.code not in _CONFIRM_FREE),
        )
    old_chain = tree.chain_path.read_bytes() if tree.chain_path.is_file() else cert_pem(on_disk)
    # The files exactly as they were (the web UI may have written text around the PEM, or
    # CRLF line ends): a roll-back puts these bytes back, not a re-encoding of them.
    old_cert_file = tree.cert_path.read_bytes()
    history = _history_path(tree, on_disk)
    entry = ctx.journal.begin(
        "renew",
        {
            "ca_id": record.id,
            "name": record.common_name,
            "directory": record.directory,
            "old_cert": cert_pem(on_disk).decode(),
            "new_cert": cert_pem(plan.renewed).decode(),
            "old_cert_file": base64.b64encode(old_cert_file).decode(),
            "old_chain_file": base64.b64encode(old_chain).decode(),
            "pre_expires": record.expires.isoformat() if record.expires else None,
            "pre_djigzo_id": record.djigzo_id,
            "history": str(history),
            "history_existed": history.exists(),
        },
        now=ctx.clock(),
        operator=operator_name(),
    )
    faults.step("renew.journaled")
    committed = False
    try:
        make_dir(tree.history_dir, PUBLIC_DIR_MODE)
        if not history.exists():
            atomic_write(history, cert_pem(on_disk), PUBLIC_FILE_MODE)
        faults.step("renew.history_saved")
        atomic_write(tree.cert_path, cert_pem(plan.renewed), PUBLIC_FILE_MODE)
        faults.step("renew.cert_written")
        atomic_write(tree.chain_path, _renewed_chain(old_chain, plan.renewed), PUBLIC_FILE_MODE)
        faults.step("renew.chain_written")
        new_cm_id = ctx.bridge.register(plan.renewed)
        faults.step("renew.new_trusted")
        with ctx.hermes.database.transaction() as tx:
            ctx.hermes.update_certificate_state(
                tx, record.id, expires=plan.renewed.not_valid_after_utc.date(), djigzo_id=new_cm_id
            )
        committed = True
        faults.step("renew.committed")
    except BaseException as exc:
        if committed:
            raise
        try:
            undo_renew(ctx, entry.data)
            ctx.journal.finish(entry)
        except Exception:
            log.exception("undo of %s failed; the journal entry stays", entry.op_id)
        code = exc.code.name if isinstance(exc, CaError) else type(exc).__name__
        ctx.audit.append(
            "renew",
            f"failed:{code}",
            ca=ca_ref(record.id, record.common_name),
            fingerprints=fingerprints(on_disk),
        )
        raise
    ctx.journal.update(entry, "committed", new_djigzo_id=new_cm_id)
    notes = _finish_renew(ctx, entry, on_disk, plan.renewed)
    return notes


def _renewed_chain(old_chain: bytes, renewed: x509.Certificate) -> bytes:
    try:
        rest = x509.load_pem_x509_certificates(old_chain)[1:]
    except ValueError:
        rest = []
    return cert_pem(renewed) + b"".join(cert_pem(c) for c in rest)


def _finish_renew(
    ctx: Context,
    entry: JournalEntry,
    old: x509.Certificate,
    new: x509.Certificate,
    outcome: str = "ok",
) -> list[str]:
    notes: list[str] = []
    try:
        ctx.bridge.unregister(old)
    except CaError as exc:
        # The renewal stands; the stale entry is harmless and the next start removes it.
        notes.append(f"old trust entry not yet removed: {exc.code.name}")
        ctx.audit.append(
            "renew",
            outcome,
            ca=ca_ref(entry.data["ca_id"], entry.data["name"]),
            fingerprints=fingerprints(new),
            details={"old": fingerprints(old), "pending": "remove old trust entry"},
        )
        return notes
    faults.step("renew.old_untrusted")
    ctx.audit.append(
        "renew",
        outcome,
        ca=ca_ref(entry.data["ca_id"], entry.data["name"]),
        fingerprints=fingerprints(new),
        details={"old": fingerprints(old), "op_id": entry.op_id},
        operator=entry.operator or None,
    )
    ctx.journal.finish(entry)
    return notes


def _journal_bytes(data: dict[str, Any], b64_key: str, text_key: str) -> bytes:
    """A file's saved bytes: base64 under ``b64_key`` (exact), or PEM text (older entries)."""
    if data.get(b64_key) is not None:
        return base64.b64decode(str(data[b64_key]))
    return str(data[text_key]).encode()


def undo_renew(ctx: Context, data: dict[str, Any]) -> None:
    """Put back the old certificate and chain; drop the new certificate's trust entry."""
    tree = CaTree.at(ctx.paths.ca_root, str(data["directory"]))
    new = load_pem(data["new_cert"])
    old_cert_file = _journal_bytes(data, "old_cert_file", "old_cert")
    if tree.cert_path.exists() and tree.cert_path.read_bytes() != old_cert_file:
        atomic_write(tree.cert_path, old_cert_file, PUBLIC_FILE_MODE)
    old_chain = _journal_bytes(data, "old_chain_file", "old_chain")
    if not tree.chain_path.exists() or tree.chain_path.read_bytes() != old_chain:
        atomic_write(tree.chain_path, old_chain, PUBLIC_FILE_MODE)
    history = Path(data["history"])
    if not data.get("history_existed"):
        history.unlink(missing_ok=True)
    ctx.bridge.unregister(new)


def _committed(ctx: Context, data: dict[str, Any]) -> bool:
    with ctx.hermes.database.transaction(write=False) as tx:
        record = ctx.hermes.get_ca(tx, int(data["ca_id"]))
    if record is None:
        return False
    before = (data.get("pre_expires"), data.get("pre_djigzo_id"))
    now = (record.expires.isoformat() if record.expires else None, record.djigzo_id)
    return now != before


def recover_renew(ctx: Context, entry: JournalEntry) -> str:
    """Finish or undo a renewal left by a dead process."""
    old = load_pem(entry.data["old_cert"])
    new = load_pem(entry.data["new_cert"])
    if _committed(ctx, entry.data):
        tree = CaTree.at(ctx.paths.ca_root, str(entry.data["directory"]))
        if not tree.cert_path.exists() or tree.cert_path.read_bytes() != cert_pem(new):
            atomic_write(tree.cert_path, cert_pem(new), PUBLIC_FILE_MODE)
        ctx.bridge.register(new)
        notes = _finish_renew(ctx, entry, old, new, outcome="recovered-forward")
        if notes:
            raise CaError(Code.TRUST_UNAVAILABLE, reason="; ".join(notes), hint="")
        return "recovered-forward"
    undo_renew(ctx, entry.data)
    ctx.audit.append(
        "renew",
        "rolled-back",
        ca=ca_ref(entry.data.get("ca_id"), entry.data.get("name")),
        fingerprints=fingerprints(old),
        details={"op_id": entry.op_id, "phase": entry.phase},
        operator=entry.operator or None,
    )
    ctx.journal.finish(entry)
    return "rolled-back"
