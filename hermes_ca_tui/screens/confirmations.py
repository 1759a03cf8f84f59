"""What the confirmation dialogs say: the facts an operator decides on."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from hermes_ca_tui.core.errors import Code, Notice
from hermes_ca_tui.core.findings import Finding
from hermes_ca_tui.core.ops.delete import DeletePlan
from hermes_ca_tui.core.ops.importing import ImportPlan
from hermes_ca_tui.core.ops.renew import RenewPlan
from hermes_ca_tui.messages import describe_code, describe_notice, describe_repair


def _warnings(notices: Iterable[Notice]) -> list[Text]:
    return [Text(f"! {describe_notice(n)}", style="bold yellow") for n in notices]


def renew_body(plan: RenewPlan) -> list[Text]:
    """Current and new expiry, serial change, issued certificates, warnings."""
    c, r = plan.current_facts, plan.renewed_facts
    rule = "now + 1825 days" if plan.floor_applied else "current expiry + 5 years"
    lines = [
        Text(f"Expires:  {c.not_after.date()}  ->  {r.not_after.date()}  ({rule})"),
        Text(f"Serial:   {c.serial_hex}"),
        Text(f"      ->  {r.serial_hex}"),
        Text("Same key and subject; the old certificate is kept in certs/history/."),
        Text(
            f"Issued:   {plan.issued.chaining} of {plan.issued.total} certificate(s) found in the "
            f"tree still chain to the renewed certificate ({plan.issued_rows} recorded)."
        ),
    ]
    return lines + _warnings(plan.warnings)


def delete_body(plan: DeletePlan) -> list[Text]:
    """The refusal with its reason, or what deleting will do."""
    if plan.refused:
        return [
            Text(describe_code(Code.HAS_ISSUED_CERTS, {"count": plan.issued}).text, style="bold")
        ]
    lines = [
        Text("The row and CipherMail's trust entries are removed."),
        Text("The folder is moved to the archive, with its key: nothing is destroyed."),
    ]
    if plan.was_default:
        if plan.promote_name:
            lines.append(
                Text(
                    f'It is the default CA: "{plan.promote_name}" becomes the default.',
                    style="bold",
                )
            )
        else:
            lines.append(
                Text("It is the default and the last CA: no default remains.", style="bold")
            )
    return lines


def import_body(plan: ImportPlan) -> list[Text]:
    """The certificate about to be imported, and its warnings."""
    f = plan.facts
    lines = [
        Text(f"Subject:  {f.subject}"),
        Text(f"Issuer:   {f.issuer}"),
        Text(f"Expires:  {f.not_after.date()}"),
        Text(f"Key:      {f.key_algorithm} {f.key_bits} bits"),
    ]
    # 32 bytes do not fit one line of the dialog: two lines of 16, split after a colon.
    octets = f.sha256.split(":")
    first, rest = ":".join(octets[:16]), ":".join(octets[16:])
    lines.append(Text(f"SHA-256:  {first}{':' if rest else ''}"))
    if rest:
        lines.append(Text(f"          {rest}"))
    if plan.chain:
        lines.append(Text(f"Chain:    {len(plan.chain)} issuer certificate(s) go into cachain.pem"))
    return lines + _warnings(plan.warnings)


def repair_body(findings: Iterable[Finding]) -> list[Text]:
    """Each repair, one per line."""
    lines = []
    for f in findings:
        fix = describe_repair(f.code, f.params) or f.code.value
        lines.append(Text(f"{f.ca}: {fix}"))
    return lines
