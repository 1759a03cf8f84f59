"""Human-readable output of the CLI (``--json`` bypasses this module)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hermes_ca_tui.core.certinfo import CertFacts
from hermes_ca_tui.core.doctor import DoctorReport
from hermes_ca_tui.core.errors import Notice
from hermes_ca_tui.core.ops.delete import DeletePlan
from hermes_ca_tui.core.ops.renew import RenewPlan
from hermes_ca_tui.core.views import CaDetails, CaSummary, ExpiryStatus
from hermes_ca_tui.messages import describe_finding, describe_notice, describe_repair


def expires_text(ca: CaSummary) -> str:
    """``2031-12-02``, with ``(N days)`` under 90 days and ``(Expired)`` after."""
    if ca.expires is None:
        return "?"
    text = ca.expires.isoformat()
    if ca.expiry is ExpiryStatus.EXPIRED:
        return f"{text} (Expired)"
    if ca.expiry is ExpiryStatus.SOON:
        return f"{text} ({ca.days_left} days)"
    return text


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(r) for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def ca_table(cas: Sequence[CaSummary]) -> str:
    """The ``list`` table."""
    if not cas:
        return "No Certificate Authorities found. Create or import one."
    return _table(
        ["ID", "NAME", "TYPE", "EXPIRES", "KEY", "DEFAULT", "ISSUED", "TRUST"],
        [
            [
                str(c.id),
                c.name,
                "Imported" if c.imported else "Internal",
                expires_text(c),
                f"{c.key_bits}-bit" if c.key_bits else "N/A",
                "YES" if c.default else "",
                str(c.issued),
                c.trust.value if not c.problem else f"{c.trust.value} ({c.problem})",
            ]
            for c in cas
        ],
    )


def _facts_lines(f: CertFacts) -> list[tuple[str, str]]:
    lines = [
        ("Subject", f.subject),
        ("Issuer", f.issuer + ("" if not f.self_signed else "  (self-signed)")),
        ("Serial", f.serial_hex),
        ("Valid from", f.not_before.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Valid until", f.not_after.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Key", f"{f.key_algorithm} {f.key_bits} bits"),
        ("Signature", f.signature_algorithm),
        ("SHA-256", f.sha256),
        ("SHA-1", f.sha1),
    ]
    for ext in f.extensions:
        lines.append((f"  {ext.name}", ext.value + ("  [critical]" if ext.critical else "")))
    if f.published_as:
        lines.append(("DANGER", f"{f.published_as}: its private key is public"))
    return lines


def details(d: CaDetails) -> str:
    """The ``show`` text."""
    s = d.summary
    head = [
        ("Name", f"{s.name}  (id {s.id}, {s.type}{', default' if s.default else ''})"),
        ("Folder", d.tree),
        ("Expires", expires_text(s)),
        ("Issued", f"{s.issued} certificate(s)"),
        ("Trust", s.trust.value),
    ]
    if s.problem:
        head.append(("Problem", s.problem))
    body = _facts_lines(d.facts) if d.facts else []
    if d.chain:
        body.append(("Chain", " <- ".join(d.chain)))
    width = max(len(k) for k, _ in head + body)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in head + body)


def notices(items: Iterable[Notice]) -> str:
    """Warnings, one per line."""
    return "\n".join(f"  ! {describe_notice(n)}" for n in items)


def renew_plan(plan: RenewPlan) -> str:
    """The renewal preview."""
    c, r = plan.current_facts, plan.renewed_facts
    rule = "now + 1825 days" if plan.floor_applied else "current expiry + 5 years"
    lines = [
        f'Renew "{plan.name}" with its own key:',
        f"  expires   {c.not_after.date()}  ->  {r.not_after.date()}  ({rule})",
        f"  serial    {c.serial_hex}  ->  {r.serial_hex}",
        f"  SHA-256   {r.sha256}",
        f"  SHA-1     {r.sha1}",
        f"  issued    {plan.issued.chaining} of {plan.issued.total} certificate(s) in the tree "
        f"still chain ({plan.issued_rows} recorded in the database)",
    ]
    if plan.warnings:
        lines.append(notices(plan.warnings))
    return "\n".join(lines)


def delete_plan(plan: DeletePlan) -> str:
    """The delete preview."""
    lines = [f'Delete "{plan.name}" (id {plan.ca_id}); its folder is archived, not destroyed.']
    if plan.was_default:
        if plan.promote_name:
            lines.append(f'  It is the default; "{plan.promote_name}" becomes the default.')
        else:
            lines.append("  It is the default and the last CA; no default remains.")
    return "\n".join(lines)


def doctor_report(report: DoctorReport) -> str:
    """The doctor's findings."""
    if report.ok:
        return f"All {report.checked} CA(s) consistent across the three stores."
    lines = []
    for f in report.findings:
        tag = "repairable" if f.repairable else "manual"
        lines.append(f"[{f.code.value}] {f.ca}: {describe_finding(f.code, f.params)} ({tag})")
        fix = describe_repair(f.code, f.params) if f.repairable else None
        if fix:
            lines.append(f"    fix: {fix}")
    return "\n".join(lines)
