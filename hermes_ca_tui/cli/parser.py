"""The command line: global options before the sub-command, ``--json`` after it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from hermes_ca_tui import __version__
from hermes_ca_tui.core.validation import KEY_SIZES, VALIDITY_YEARS

EPILOG = """\
exit codes: 0 done; 1 internal error; 2 usage; 3 refused by a rule (validation,
duplicate, issued certificates, downloads disabled, confirmation missing, drift found);
4 environment (database, CipherMail, lock, disk).
CA is a name (case-insensitive) or a numeric id."""


class UsageError(Exception):
    """A command line the parser rejects (exit code 2); ``main`` reports it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class CliParser(argparse.ArgumentParser):
    """argparse without abbreviated options, raising :class:`UsageError` instead of exiting.

    No abbreviations: ``--passphrase SECRET`` must be refused, not taken for
    ``--passphrase-file SECRET`` (whose error message and log line would name the secret).
    Raising lets ``main`` print the error as JSON under ``--json``. Sub-parsers are built
    by the same class, so both rules hold for every sub-command.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing and exiting; never repeat the values of stray words.

        A value after a mistyped option may be a secret (``--passphrase SECRET``): it is
        shown as ``***`` so that it reaches no terminal log, JSON output or cron mail.
        """
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            words = message.removeprefix(prefix).split()
            shown = [w.split("=", 1)[0] + "=***" if "=" in w else w for w in words]
            shown = [w if w.startswith("-") else "***" for w in shown]
            message = prefix + " ".join(shown)
        raise UsageError(self, message)


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = CliParser(
        prog="hermes-ca-tui",
        description=(
            "Manage the internal S/MIME certificate authorities of a Hermes gateway. "
            "Without a command, the dashboard opens."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="use the embedded default in DIR (created on first use)",
    )
    where.add_argument("--config", type=Path, metavar="PATH", help="appliance configuration (TOML)")
    parser.add_argument("--vt", action="store_true", help="dashboard: Linux-console mode")
    parser.add_argument("--no-mouse", action="store_true", help="dashboard: no mouse reporting")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list every CA")
    _json_flag(p)

    p = sub.add_parser("show", help="show one CA in detail")
    p.add_argument("ca", metavar="CA")
    _json_flag(p)

    p = sub.add_parser("create", help="create an internal CA")
    p.add_argument("--cn", required=True, help="common name (letters, digits, spaces)")
    p.add_argument("--org", required=True, help="organisation (letters, digits, spaces, commas)")
    p.add_argument("--unit", required=True, help="organisational unit (letters, digits, spaces, _)")
    p.add_argument("--state", required=True, help="state or province (letters, spaces)")
    p.add_argument("--country", required=True, help="ISO 3166-1 two-letter country code")
    p.add_argument(
        "--key-size",
        default="4096",
        metavar="|".join(str(k) for k in KEY_SIZES),
        help="RSA key size (default 4096)",
    )
    p.add_argument(
        "--years",
        default="5",
        metavar="1-5",
        help=f"validity in years, one of {sorted(VALIDITY_YEARS)} (default 5)",
    )
    p.add_argument("--default", action="store_true", help="make it the default CA")
    _json_flag(p)

    p = sub.add_parser("import", help="import an existing CA")
    p.add_argument("--name", required=True, help="name for the CA (letters, digits, spaces)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--cert", type=Path, metavar="FILE", help="CA certificate, PEM or DER")
    src.add_argument("--pkcs12", type=Path, metavar="FILE", help="PKCS#12 bundle (key + cert)")
    p.add_argument("--key", type=Path, metavar="FILE", help="private key, PEM or DER")
    p.add_argument(
        "--passphrase-file",
        type=Path,
        metavar="F",
        help="file holding the key's or bundle's passphrase ('-' reads stdin)",
    )
    p.add_argument("--default", action="store_true", help="make it the default CA")
    p.add_argument("--yes", action="store_true", help="accept the warnings")
    _json_flag(p)

    p = sub.add_parser("set-default", help="make a CA the default")
    p.add_argument("ca", metavar="CA")
    _json_flag(p)

    p = sub.add_parser("renew", help="re-sign a CA with its own key (+5 years)")
    p.add_argument("ca", metavar="CA")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--yes", action="store_true", help="do not ask")
    _json_flag(p)

    p = sub.add_parser("delete", help="delete a CA that issued nothing (its tree is archived)")
    p.add_argument("ca", metavar="CA")
    p.add_argument("--yes", action="store_true", help="do not ask")
    _json_flag(p)

    p = sub.add_parser("export", help="write a CA's certificate or key to a file")
    p.add_argument("ca", metavar="CA")
    p.add_argument("--what", required=True, choices=["cert", "key"])
    p.add_argument("--out", required=True, type=Path, metavar="PATH")
    p.add_argument("--format", default="pem", choices=["pem", "der"])
    p.add_argument("--encrypt", action="store_true", help="encrypt the key (PKCS#8 AES-256)")
    p.add_argument(
        "--passphrase-file",
        type=Path,
        metavar="F",
        help="passphrase for --encrypt ('-' reads stdin)",
    )
    p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    _json_flag(p)

    p = sub.add_parser("doctor", help="compare the three stores and report drift")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed safely")
    p.add_argument("--yes", action="store_true", help="do not ask before repairing")
    _json_flag(p)

    p = sub.add_parser("config", help="the configuration in use")
    config_sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser(
        "check", help="print what was loaded from where and test every connection"
    )
    _json_flag(check)

    p = sub.add_parser("db", help="database set-up (tests and new installs)")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    init = db_sub.add_parser(
        "init", help="create the tables with the constraints the appliance lacks"
    )
    _json_flag(init)

    p = sub.add_parser("audit", help="the audit trail")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser("verify", help="check the hash chain")
    _json_flag(verify)
    return parser
