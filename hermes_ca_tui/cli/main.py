"""Entry point: the headless sub-commands, or the dashboard when none is given.

This is an edge: it turns :class:`~hermes_ca_tui.core.errors.CaError` into words (once,
through :mod:`hermes_ca_tui.messages`) and into the exit codes of PRODUCT §7.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hermes_ca_tui.cli import render
from hermes_ca_tui.cli.parser import UsageError, build_parser
from hermes_ca_tui.core.config import LoadedConfig
from hermes_ca_tui.core.config import load as load_config
from hermes_ca_tui.core.doctor import finding_json
from hermes_ca_tui.core.errors import CaError, Code, Kind
from hermes_ca_tui.core.ops.export import ExportFormat, ExportRequest, ExportWhat
from hermes_ca_tui.core.ops.importing import ImportRequest
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, check_profile, init_schema, open_service
from hermes_ca_tui.core.validation import CreateRequest
from hermes_ca_tui.messages import (
    describe,
    describe_finding,
    describe_notice,
    describe_repair,
    describe_success,
)

log = logging.getLogger("hermes_ca_tui")


class Output:
    """Where results go: JSON documents or text, on stdout."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, document: Any, text: str) -> None:
        """Print the JSON document or the text."""
        if self.as_json:
            print(json.dumps(document, indent=2, default=str))
        else:
            print(text)

    def note(self, text: str) -> None:
        """Informational text (suppressed in JSON mode, which prints one document)."""
        if not self.as_json:
            print(text)


def read_passphrase(path: Path | None) -> bytes | None:
    """The passphrase from a file (``-`` is stdin), without its trailing newline.

    Passphrases are never taken from argv, where ``ps`` would show them.
    """
    if path is None:
        return None
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CaError(
            Code.PASSPHRASE_UNREADABLE, path=str(path), reason=exc.strerror or "error"
        ) from None
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    return data


def confirm(what: str, *, yes: bool, out: Output) -> None:
    """Ask on a terminal; refuse without ``--yes`` anywhere else (scripts, JSON)."""
    if yes:
        return
    if out.as_json or not sys.stdin.isatty():
        raise CaError(Code.CONFIRMATION_REQUIRED, what=what)
    answer = input(f"{what}. Proceed? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CaError(Code.CONFIRMATION_REQUIRED, what=what)


def cmd_list(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """list: every CA."""
    cas = service.list_cas()
    out.emit([c.as_json() for c in cas], render.ca_table(cas))
    return 0


def cmd_show(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """show: one CA in detail."""
    d = service.show(args.ca)
    out.emit(d.as_json(), render.details(d))
    return 0


def cmd_create(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """create: a new internal CA."""
    d = service.create(
        CreateRequest(
            common_name=args.cn,
            organization=args.org,
            unit=args.unit,
            state=args.state,
            country=args.country,
            key_size=args.key_size,
            years=args.years,
            make_default=args.default,
        )
    )
    out.emit(d.as_json(), describe_success("create") + "\n" + render.details(d))
    return 0


def cmd_import(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """import: an existing CA, warnings confirmed first."""
    if args.cert is not None and args.key is None:
        raise CaError(Code.KEY_FILE_MISSING, field="key")
    plan = service.inspect_import(
        ImportRequest(
            name=args.name,
            cert_file=args.cert,
            key_file=args.key,
            pkcs12_file=args.pkcs12,
            passphrase=read_passphrase(args.passphrase_file),
            make_default=args.default,
        )
    )
    if plan.warnings:
        out.note("Warnings:\n" + render.notices(plan.warnings))
        if not args.yes and not out.as_json and sys.stdin.isatty():
            confirm("Importing despite these warnings", yes=False, out=out)
            args.yes = True
    d = service.import_ca(plan, accept_warnings=bool(args.yes))
    doc = d.as_json() | {"warnings": [w.code.value for w in plan.warnings]}
    out.emit(doc, describe_success("import") + "\n" + render.details(d))
    return 0


def cmd_set_default(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """set-default: one default CA."""
    d = service.set_default(args.ca)
    out.emit(d.as_json(), describe_success("set-default") + f' "{d.summary.name}" is the default.')
    return 0


def cmd_renew(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """renew: preview, confirm, re-sign."""
    plan = service.plan_renew(args.ca)
    if args.dry_run:
        doc = plan.as_json() | {
            "dry_run": True,
            "warnings": [
                {"code": w.code.value, "message": describe_notice(w)} for w in plan.warnings
            ],
        }
        out.emit(doc, render.renew_plan(plan) + "\n(dry run: nothing was changed)")
        return 0
    out.note(render.renew_plan(plan))
    confirm(f'Renewing "{plan.name}"', yes=args.yes, out=out)
    d, notes = service.renew(plan, accept_warnings=True)
    text = describe_success("renew", expires=d.summary.expires) + "\n" + render.details(d)
    for n in notes:
        text += f"\nnote: {n}"
    out.emit(d.as_json() | {"notes": notes}, text)
    return 0


def cmd_delete(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """delete: preview, confirm, archive."""
    plan = service.plan_delete(args.ca)
    if plan.refused:
        raise CaError(Code.HAS_ISSUED_CERTS, count=plan.issued)
    out.note(render.delete_plan(plan))
    confirm(f'Deleting "{plan.name}"', yes=args.yes, out=out)
    result = service.delete(plan.ca_id)
    doc = {
        "deleted": {"id": result.ca_id, "name": result.name},
        "archive": result.archive,
        "new_default": (
            {"id": result.new_default_id, "name": result.new_default_name}
            if result.new_default_id
            else None
        ),
    }
    text = describe_success("delete")
    if result.archive:
        text += f"\nThe folder was archived in {result.archive}"
    if result.new_default_name:
        text += f'\n"{result.new_default_name}" is now the default CA.'
    out.emit(doc, text)
    return 0


def cmd_export(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """export: certificate or key to a file."""
    passphrase = None
    if args.encrypt:
        if args.what != "key":
            raise CaError(Code.EXPORT_WHAT_INVALID, what="--encrypt applies to keys only")
        if args.passphrase_file is None:
            raise CaError(Code.PASSPHRASE_EMPTY, field="passphrase")
        passphrase = read_passphrase(args.passphrase_file)
    result = service.export(
        ExportRequest(
            ref=args.ca,
            what=ExportWhat(args.what),
            out=args.out,
            format=ExportFormat(args.format),
            passphrase=passphrase,
            overwrite=args.force,
        )
    )
    doc = {
        "path": str(result.path),
        "what": result.what.value,
        "format": result.format.value,
        "encrypted": result.encrypted,
        "ca": {"id": result.ca_id, "name": result.name},
    }
    out.emit(doc, describe_success("export", path=result.path))
    return 0


def _findings_json(report: Any) -> list[dict[str, Any]]:
    return [
        finding_json(
            f,
            describe_finding(f.code, f.params),
            describe_repair(f.code, f.params) if f.repairable else None,
        )
        for f in report.findings
    ]


def cmd_doctor(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """doctor: report drift, optionally repair it."""
    report = service.doctor()
    if not args.repair:
        out.emit(
            {"ok": report.ok, "findings": _findings_json(report)}, render.doctor_report(report)
        )
        return 0 if report.ok else Kind.REFUSED.value
    if not report.repairable:
        out.emit(
            {"ok": report.ok, "findings": _findings_json(report), "repaired": []},
            render.doctor_report(report) + "\nNothing can be repaired automatically.",
        )
        return 0 if report.ok else Kind.REFUSED.value
    out.note(render.doctor_report(report))
    confirm(f"Applying {len(report.repairable)} repair(s)", yes=args.yes, out=out)
    fixed, after = service.repair({f.key for f in report.repairable})
    doc = {
        "ok": after.ok,
        "findings": _findings_json(after),
        "repaired": [
            {"ca": f.ca, "code": f.code.value, "repair": describe_repair(f.code, f.params)}
            for f in fixed
        ],
    }
    text = describe_success("repair", count=len(fixed)) + "\n" + render.doctor_report(after)
    out.emit(doc, text)
    return 0 if after.ok else Kind.REFUSED.value


def cmd_audit(service: CaService, args: argparse.Namespace, out: Output) -> int:
    """The audit verify command: check the hash chain."""
    result = service.audit_verify()
    if not result.ok:
        raise CaError(Code.AUDIT_CHAIN_BROKEN, line=result.broken_line, reason=result.reason or "?")
    doc = {"ok": True, "records": result.records, "torn_tail": result.torn_tail}
    text = f"Audit chain intact: {result.records} record(s)."
    if result.torn_tail:
        text += " The last line was torn by a crash; the next record drops it."
    out.emit(doc, text)
    return 0


COMMANDS: dict[str, Callable[[CaService, argparse.Namespace, Output], int]] = {
    "list": cmd_list,
    "show": cmd_show,
    "create": cmd_create,
    "import": cmd_import,
    "set-default": cmd_set_default,
    "renew": cmd_renew,
    "delete": cmd_delete,
    "export": cmd_export,
    "doctor": cmd_doctor,
    "audit": cmd_audit,
}


def resolve_config(args: argparse.Namespace) -> LoadedConfig:
    """The configuration the global options and the environment select."""
    return load_config(args.config, args.data_dir)


def cmd_config_check(loaded: LoadedConfig, out: Output) -> int:
    """The config check command: what was loaded from where; is every store reachable."""
    from hermes_ca_tui.core.store.postgres import mask_dsn  # psycopg only when asked

    profile = loaded.profile
    health = check_profile(profile)
    ok = all(h.ok for h in health)

    def shown(key: str, value: object) -> str:
        text = " ".join(value) if isinstance(value, list) else str(value)
        return mask_dsn(text) if key.startswith("database.") and "sqlite" not in text else text

    settings = [
        {"key": s.key, "value": shown(s.key, s.value), "source": s.source} for s in loaded.settings
    ]
    doc = {
        "ok": ok,
        "config": str(loaded.path) if loaded.path else None,
        "source": loaded.source,
        "profile": profile.label,
        "embedded": profile.embedded,
        "settings": settings,
        "stores": [{"name": h.name, "ok": h.ok, "detail": h.detail} for h in health],
    }
    lines = [f"configuration: {loaded.path or 'none'} ({loaded.source})"]
    if profile.embedded:
        lines.append(f"embedded default in {profile.label}")
    width = max((len(s["key"]) for s in settings), default=0)
    lines += [f"  {s['key']:<{width}}  {s['value']}   [{s['source']}]" for s in settings]
    lines += [f"{h.name}: {'ok' if h.ok else 'FAILED'} ({h.detail})" for h in health]
    out.emit(doc, "\n".join(lines))
    return 0 if ok else Kind.ENVIRONMENT.value


def cmd_db_init(loaded: LoadedConfig, out: Output) -> int:
    """The db init command: create the tables (with our constraints) where missing."""
    done = init_schema(loaded.profile)
    out.emit({"ok": True, "databases": done}, "\n".join(done))
    return 0


def configure_logging(profile: Profile) -> None:
    """Log to a file beside the data, never to the terminal."""
    # Beside the audit log: the data folder, or /var/log/hermes-ca-tui on the appliance.
    target = profile.audit_log.parent / "hermes-ca-tui.log"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(target, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # The root logger: libraries' records and captured warnings land in the file too,
    # never on the terminal (where the dashboard draws).
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("hermes_ca_tui").setLevel(logging.INFO)
    logging.captureWarnings(True)


def report_error(error: CaError, out: Output) -> int:
    """Print an error once, in words; return its exit code."""
    described = describe(error)
    if out.as_json:
        print(json.dumps({"error": described.as_json()}, indent=2))
    else:
        print(described.one_line(), file=sys.stderr)
    return error.kind.value


def report_usage(error: UsageError, *, as_json: bool) -> int:
    """Print a rejected command line (as JSON under ``--json``); return exit code 2."""
    if as_json:
        usage = CaError(Code.USAGE, reason=error.message)
        print(json.dumps({"error": describe(usage).as_json()}, indent=2))
    else:
        error.parser.print_usage(sys.stderr)
        print(f"{error.parser.prog}: error: {error.message}", file=sys.stderr)
    return Kind.USAGE.value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        return report_usage(error, as_json="--json" in argv)
    out = Output(bool(getattr(args, "json", False)))
    service: CaService | None = None
    try:
        loaded = resolve_config(args)
        profile = loaded.profile
        configure_logging(profile)
        if args.command is None:
            from hermes_ca_tui.cli.dashboard import run_dashboard

            return run_dashboard(loaded, args)
        if args.command == "config":
            return cmd_config_check(loaded, out)
        if args.command == "db":
            return cmd_db_init(loaded, out)
        service = open_service(profile)
        return COMMANDS[args.command](service, args, out)
    except CaError as error:
        log.info("refused: %s", error)
        return report_error(error, out)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `... | head`: the reader left; nothing more to say, and no traceback.
        sys.stderr.close()
        return 0
    except Exception as exc:
        log.exception("internal error")
        return report_error(
            CaError(Code.INTERNAL, reason=f"{type(exc).__name__}: see the log file"), out
        )
    finally:
        if service is not None:
            service.close()


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
