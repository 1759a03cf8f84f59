"""doctor: compare the three stores for every CA and repair the drift that is safe to fix.

A finding is repairable only when the fix cannot lose anything: modes, missing
bookkeeping files, ``cachain.pem`` rebuilt from the certificate, CipherMail entries of a
current certificate (added) or of a retired one (removed, matched by thumbprint), the
default, and row fields that mirror the certificate. Anything involving a missing or
mismatched key or certificate is reported for an operator to decide.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from hermes_ca_tui.core.certinfo import spki_sha256, thumbprint
from hermes_ca_tui.core.context import ARCHIVE_DIR, STATE_DIR, Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.findings import Finding, FindingCode
from hermes_ca_tui.core.fsutil import PUBLIC_FILE_MODE, atomic_write, file_mode
from hermes_ca_tui.core.keys import key_matches, load_stored_key
from hermes_ca_tui.core.ops.common import ca_ref, cert_pem
from hermes_ca_tui.core.store.djigzo import ROOTS_STORE
from hermes_ca_tui.core.store.records import CaRecord, TrustEntry
from hermes_ca_tui.core.tree import CaTree, restore_missing_parts
from hermes_ca_tui.core.trust.state import TrustState, trust_state

_TRUST_FINDINGS = {
    TrustState.MISSING: FindingCode.NOT_TRUSTED,
    TrustState.NOT_IN_ROOTS: FindingCode.NOT_IN_ROOTS,
    TrustState.CTL_MISSING: FindingCode.CTL_MISSING,
    TrustState.NOT_WHITELISTED: FindingCode.NOT_WHITELISTED,
}


@dataclass(frozen=True)
class DoctorReport:
    """Everything doctor found."""

    findings: tuple[Finding, ...]
    checked: int

    @property
    def ok(self) -> bool:
        """No drift at all."""
        return not self.findings

    @property
    def repairable(self) -> tuple[Finding, ...]:
        """The findings ``--repair`` would fix."""
        return tuple(f for f in self.findings if f.repairable)


@dataclass
class _CaState:
    record: CaRecord
    tree: CaTree
    cert: x509.Certificate | None = None
    key_matches: bool = False
    """The tree's key is readable and belongs to ``cert`` (trust repairs need that)."""


def _mode_text(mode: int) -> str:
    return f"{mode:04o}"


def _check_tree(ctx: Context, state: _CaState, out: list[Finding]) -> None:
    record, tree = state.record, state.tree
    name = record.common_name

    def add(code: FindingCode, repairable: bool = False, **params: Any) -> None:
        fix = params.pop("fix", {})
        out.append(Finding(code, name, record.id, repairable, params, fix))

    if not tree.exists():
        add(FindingCode.ROW_WITHOUT_TREE, path=str(tree.folder))
        return
    for path, mode in tree.private_paths():
        actual = file_mode(path)
        if actual != mode:
            add(
                FindingCode.PERMISSIONS,
                True,
                path=str(path),
                mode=_mode_text(actual),
                expected=_mode_text(mode),
                fix={"target": str(path), "mode": mode},
            )
    missing = tree.missing_parts()
    if missing:
        add(
            FindingCode.TREE_INCOMPLETE,
            True,
            missing=", ".join(missing),
            fix={"target": str(tree.root)},
        )
    if not tree.cert_path.is_file():
        add(FindingCode.CERT_MISSING, path=str(tree.cert_path))
        return
    loaded = ctx.certs.get(tree.cert_path)
    if loaded is None:
        add(FindingCode.CERT_UNREADABLE, path=str(tree.cert_path))
        return
    cert, facts = loaded
    state.cert = cert
    if facts.published_as:
        add(FindingCode.PUBLISHED_KEY, label=facts.published_as)
    if not tree.key_path.is_file():
        add(FindingCode.KEY_MISSING, path=str(tree.key_path))
    else:
        try:
            key = load_stored_key(tree.key_path.read_bytes())
        except (OSError, CaError):
            add(FindingCode.KEY_UNREADABLE, path=str(tree.key_path))
        else:
            state.key_matches = key_matches(key, cert)
            if not state.key_matches:
                add(FindingCode.KEY_CERT_MISMATCH)
    if tree.serial_path.is_file():
        text = tree.serial_path.read_text(errors="replace").strip()
        try:
            int(text, 16)
        except ValueError:
            add(FindingCode.SERIAL_INVALID, path=str(tree.serial_path))
    chain = tree.read_chain()
    if not chain or chain[0] != cert:
        add(FindingCode.CACHAIN_DIFFERS, True, fix={"target": str(tree.chain_path)})
    cert_date = facts.not_after.date()
    if record.expires != cert_date:
        add(
            FindingCode.EXPIRES_MISMATCH,
            True,
            row=record.expires.isoformat() if record.expires else "nothing",
            cert=cert_date.isoformat(),
            fix={"target": cert_date.isoformat()},
        )


def _check_trust(state: _CaState, entry: TrustEntry | None, out: list[Finding]) -> None:
    if state.cert is None:
        return
    record = state.record
    status = trust_state(entry)
    code = _TRUST_FINDINGS.get(status)
    tp = thumbprint(state.cert)
    if code is not None:
        params: dict[str, Any] = {}
        if code is FindingCode.NOT_IN_ROOTS and entry is not None:
            params["store"] = ", ".join(str(s) for s in entry.stores)
        if code is FindingCode.NOT_WHITELISTED and entry is not None:
            params.update(
                status=entry.status or "unset", allow_expired=entry.allow_expired or "unset"
            )
        # Whitelisting a certificate whose key is missing or another's could trust a root
        # someone swapped in: only a certificate proven by the tree's key is registered.
        repairable = state.key_matches
        out.append(Finding(code, record.common_name, record.id, repairable, params, {"target": tp}))
        return
    if entry is None:
        return
    roots = [
        cm for cm, store in zip(entry.cm_ids, entry.stores, strict=True) if store == ROOTS_STORE
    ]
    if roots and record.djigzo_id not in roots:
        out.append(
            Finding(
                FindingCode.DJIGZO_ID_MISMATCH,
                record.common_name,
                record.id,
                True,
                {
                    "row": record.djigzo_id if record.djigzo_id is not None else "nothing",
                    "actual": roots[0],
                },
                {"target": roots[0]},
            )
        )


def _retired_certificates(ctx: Context, states: Iterable[_CaState]) -> dict[str, str]:
    """Thumbprints of certificates we retired (renewed or deleted CAs), with a reason."""
    retired: dict[str, str] = {}
    folders: list[tuple[Path, str]] = []
    archive = ctx.paths.archive_dir
    if archive.is_dir():
        folders.extend((p, "its CA was deleted") for p in archive.iterdir() if p.is_dir())
    for state in states:
        if state.tree.exists():
            folders.append((state.tree.folder, "it was replaced by a renewal"))
    for folder, reason in folders:
        tree = CaTree(folder)
        candidates = [tree.cert_path] if folder.parent == archive else []
        if tree.history_dir.is_dir():
            candidates.extend(sorted(tree.history_dir.glob("*.pem")))
        for path in candidates:
            loaded = ctx.certs.get(path)
            if loaded:
                why = reason if path.parent == tree.history_dir else "its CA was deleted"
                retired.setdefault(loaded[1].thumbprint, why)
    return retired


def _check_orphans(ctx: Context, states: list[_CaState], out: list[Finding]) -> None:
    current = {thumbprint(s.cert) for s in states if s.cert is not None}
    current_keys = {spki_sha256(s.cert): s.record.common_name for s in states if s.cert}
    retired = _retired_certificates(ctx, states)
    djigzo = ctx.bridge.djigzo
    with djigzo.database.transaction(write=False) as tx:
        roots = djigzo.root_certificates(tx)
        ctl = djigzo.ctl_thumbprints(tx)
    seen: set[str] = set()
    for _cm_id, tp, der, subject in roots:
        if tp in current or tp in seen:
            continue
        reason = retired.get(tp)
        if reason is None and der is not None:
            try:
                owner = current_keys.get(spki_sha256(x509.load_der_x509_certificate(der)))
            except ValueError:
                owner = None
            if owner is not None:
                reason = f"it is an old certificate of {owner}"
        if reason is not None:
            seen.add(tp)
            out.append(
                Finding(
                    FindingCode.TRUST_ORPHANED,
                    subject or tp[:16],
                    None,
                    True,
                    {"subject": subject or tp[:16], "reason": reason},
                    {"target": tp},
                )
            )
    for tp in sorted(ctl - current - seen):
        if tp in retired:
            out.append(
                Finding(
                    FindingCode.TRUST_ORPHANED,
                    tp[:16],
                    None,
                    True,
                    {"subject": f"trust-list entry {tp[:16]}...", "reason": retired[tp]},
                    {"target": tp},
                )
            )


def diagnose(ctx: Context) -> DoctorReport:
    """Check every CA across the three stores; writes nothing."""
    with ctx.hermes.database.transaction(write=False) as tx:
        records = ctx.hermes.list_cas(tx)
    findings: list[Finding] = []
    defaults = [r for r in records if r.default]
    if records and len(defaults) != 1:
        target = (defaults or sorted(records, key=lambda r: r.id))[0]
        findings.append(
            Finding(
                FindingCode.DEFAULT_COUNT,
                target.common_name,
                target.id,
                True,
                {"count": len(defaults), "target": target.common_name},
                {"target": target.id},
            )
        )
    by_dir: dict[str, list[CaRecord]] = {}
    by_name: dict[str, list[CaRecord]] = {}
    for r in records:
        by_dir.setdefault(r.directory.lower(), []).append(r)
        by_name.setdefault(r.common_name.rstrip().lower(), []).append(r)
    for group in by_dir.values():
        if len(group) > 1:
            findings.append(
                Finding(
                    FindingCode.DUPLICATE_DIRECTORY,
                    group[0].common_name,
                    group[0].id,
                    False,
                    {"path": group[0].directory, "names": ", ".join(r.common_name for r in group)},
                )
            )
    for group in by_name.values():
        if len(group) > 1:
            findings.append(
                Finding(
                    FindingCode.DUPLICATE_NAME,
                    group[0].common_name,
                    group[0].id,
                    False,
                    {"name": group[0].common_name},
                )
            )
    states = [_CaState(r, CaTree.at(ctx.paths.ca_root, r.directory)) for r in records]
    for state in states:
        _check_tree(ctx, state, findings)
    thumbprints = [thumbprint(s.cert) for s in states if s.cert is not None]
    try:
        entries = ctx.bridge.trust_entries(thumbprints) if thumbprints else {}
        for state in states:
            if state.cert is not None:
                _check_trust(state, entries.get(thumbprint(state.cert)), findings)
        _check_orphans(ctx, states, findings)
    except CaError as exc:
        findings.append(
            Finding(
                FindingCode.TRUST_UNKNOWN,
                "CipherMail",
                None,
                False,
                {"reason": exc.params.get("reason", exc.code.name)},
            )
        )
    known = {r.directory.lower() for r in records}
    if ctx.paths.ca_root.is_dir():
        for folder in sorted(ctx.paths.ca_root.iterdir()):
            if folder.name in (STATE_DIR, ARCHIVE_DIR) or not folder.is_dir():
                continue
            if folder.name.lower() not in known:
                findings.append(
                    Finding(
                        FindingCode.TREE_WITHOUT_ROW,
                        folder.name,
                        None,
                        False,
                        {"path": str(folder)},
                    )
                )
    return DoctorReport(tuple(findings), len(records))


def _repair_one(ctx: Context, finding: Finding) -> None:
    code, fix = finding.code, finding.fix
    if code is FindingCode.PERMISSIONS:
        os.chmod(fix["target"], int(fix["mode"]))
    elif code is FindingCode.TREE_INCOMPLETE:
        restore_missing_parts(CaTree(Path(fix["target"]).parent))
    elif code is FindingCode.CACHAIN_DIFFERS:
        tree = CaTree(Path(fix["target"]).parent.parent)
        cert = tree.read_cert()
        key = spki_sha256(cert)
        rest = [c for c in tree.read_chain() if c != cert and spki_sha256(c) != key]
        atomic_write(
            tree.chain_path, cert_pem(cert) + b"".join(cert_pem(c) for c in rest), PUBLIC_FILE_MODE
        )
    elif code in (
        FindingCode.NOT_TRUSTED,
        FindingCode.NOT_IN_ROOTS,
        FindingCode.CTL_MISSING,
        FindingCode.NOT_WHITELISTED,
    ):
        assert finding.ca_id is not None
        with ctx.hermes.database.transaction(write=False) as tx:
            record = ctx.hermes.get_ca(tx, finding.ca_id)
        if record is None:
            return
        cert = CaTree.at(ctx.paths.ca_root, record.directory).read_cert()
        cm_id = ctx.bridge.register(cert)
        if record.djigzo_id != cm_id:
            with ctx.hermes.database.transaction() as tx:
                ctx.hermes.set_djigzo_id(tx, record.id, cm_id)
    elif code is FindingCode.TRUST_ORPHANED:
        ctx.bridge.unregister_thumbprint(str(fix["target"]))
    elif code is FindingCode.DEFAULT_COUNT:
        with ctx.hermes.database.transaction() as tx:
            ctx.hermes.make_default(tx, int(fix["target"]))
    elif code is FindingCode.EXPIRES_MISMATCH:
        from datetime import date

        assert finding.ca_id is not None
        with ctx.hermes.database.transaction() as tx:
            ctx.hermes.set_expires(tx, finding.ca_id, date.fromisoformat(str(fix["target"])))
    elif code is FindingCode.DJIGZO_ID_MISMATCH:
        assert finding.ca_id is not None
        with ctx.hermes.database.transaction() as tx:
            ctx.hermes.set_djigzo_id(tx, finding.ca_id, int(fix["target"]))


def repair(ctx: Context, keys: set[str] | None = None) -> tuple[list[Finding], DoctorReport]:
    """Fix repairable findings; call under :meth:`Context.locked`.

    Args:
        ctx: The session.
        keys: :attr:`Finding.key` of the findings to fix; ``None`` fixes all repairable.

    Returns:
        The findings fixed, and a fresh report afterwards.
    """
    report = diagnose(ctx)
    chosen = [f for f in report.repairable if keys is None or f.key in keys]
    if not chosen:
        raise CaError(Code.NOTHING_TO_REPAIR)
    fixed: list[Finding] = []
    # Defaults and rows first, then files, then trust (which reads the files).
    order = {
        FindingCode.DEFAULT_COUNT: 0,
        FindingCode.PERMISSIONS: 1,
        FindingCode.TREE_INCOMPLETE: 1,
        FindingCode.CACHAIN_DIFFERS: 2,
    }
    for finding in sorted(chosen, key=lambda f: order.get(f.code, 5)):
        try:
            _repair_one(ctx, finding)
        except CaError as exc:
            ctx.audit.append(
                "repair",
                f"failed:{exc.code.name}",
                ca=ca_ref(finding.ca_id, finding.ca),
                details={"finding": finding.code.value},
            )
            raise
        fixed.append(finding)
        ctx.audit.append(
            "repair",
            "ok",
            ca=ca_ref(finding.ca_id, finding.ca),
            details={"finding": finding.code.value, "fix": _jsonable(finding.fix)},
        )
    return fixed, diagnose(ctx)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | None) else str(v) for k, v in data.items()
    }


def finding_json(finding: Finding, message: str, repair_text: str | None) -> dict[str, Any]:
    """The CLI's JSON object of a finding."""
    return {
        "ca": finding.ca,
        "ca_id": finding.ca_id,
        "code": finding.code.value,
        "message": message,
        "repairable": finding.repairable,
        "repair": repair_text,
        "key": finding.key,
    }
