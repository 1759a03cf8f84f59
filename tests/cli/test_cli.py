"""The headless CLI, run for real in a subprocess: JSON shapes, exit codes, confirmations.

Every call goes through :func:`cli`, which also checks that no Python traceback ever
reaches stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from hermes_ca_tui.core.session import embedded_profile, open_service
from tests.support import build_cert, create_request, rsa_key, run_cli, write_pair

HEX_PAIR = "[0-9A-F]{2}"
SHA256 = re.compile(rf"^{HEX_PAIR}(:{HEX_PAIR}){{31}}$")
SHA1 = re.compile(rf"^{HEX_PAIR}(:{HEX_PAIR}){{19}}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SERIAL = re.compile(r"^[0-9A-F]+$")
CA_KEYS = {
    "id",
    "name",
    "directory",
    "type",
    "expires",
    "key_bits",
    "default",
    "issued",
    "trust",
    "serial",
    "sha256",
    "sha1",
}
PASSPHRASE = "Corr3ct-Horse-Battery-9f2c61"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error(self) -> dict[str, Any]:
        doc = self.json
        assert set(doc) == {"error"}, doc
        assert set(doc["error"]) == {"code", "m", "message"}, doc
        return dict(doc["error"])


def cli(data_dir: Path, *args: str, stdin: bytes | None = None) -> Run:
    """Run the CLI; never a traceback on stderr, and JSON errors only on stdout."""
    done = run_cli(data_dir, *args, stdin=stdin)
    assert "Traceback" not in done.stderr, done.stderr
    assert "Traceback" not in done.stdout, done.stdout
    if "--json" in args and done.returncode in (0, 2, 3, 4):
        assert done.stdout.strip(), done.stderr
        json.loads(done.stdout)  # one JSON document, success or failure
    return Run(done.returncode, done.stdout, done.stderr)


def create(data_dir: Path, cn: str, *extra: str) -> dict[str, Any]:
    run = cli(
        data_dir,
        "create",
        "--cn",
        cn,
        "--org",
        "Acme, Inc",
        "--unit",
        "IT_Security",
        "--state",
        "North Carolina",
        "--country",
        "us",
        "--key-size",
        "2048",
        *extra,
        "--json",
    )
    assert run.code == 0, run
    return dict(run.json)


def seed(data_dir: Path, *names: str) -> list[dict[str, Any]]:
    """Create CAs in-process through the core (quicker than one subprocess each)."""
    service = open_service(embedded_profile(data_dir))
    try:
        return [service.create(create_request(n)).as_json() for n in names]
    finally:
        service.close()


def assert_ca_object(doc: dict[str, Any]) -> None:
    assert set(doc) >= CA_KEYS, CA_KEYS - set(doc)
    assert isinstance(doc["id"], int)
    assert doc["type"] in ("internal", "imported")
    assert DATE.match(doc["expires"]), doc["expires"]
    assert isinstance(doc["key_bits"], int)
    assert isinstance(doc["default"], bool)
    assert isinstance(doc["issued"], int)
    assert SERIAL.match(doc["serial"]), doc["serial"]
    assert SHA256.match(doc["sha256"]), doc["sha256"]
    assert SHA1.match(doc["sha1"]), doc["sha1"]


def rsa_numbers(key: object) -> rsa.RSAPublicNumbers:
    assert isinstance(key, rsa.RSAPublicKey)
    return key.public_numbers()


def tree_files(data_dir: Path) -> dict[str, tuple[int, str]]:
    """Every file under the CA root but our own state: mode and content hash."""
    root = data_dir / "CA"
    out: dict[str, tuple[int, str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".hermes-ca-tui" or not path.is_file():
            continue
        out[str(rel)] = (
            stat.S_IMODE(path.stat().st_mode),
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
    return out


def trust_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(data_dir / "djigzo.sqlite3")) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "cm_certificates" not in tables:  # nobody has opened CipherMail's store yet
            return []
        certs = conn.execute(
            "SELECT cm_id, cm_thumbprint, cm_store_name FROM cm_certificates ORDER BY cm_id"
        ).fetchall()
        ctl = conn.execute("SELECT cm_id, cm_thumbprint FROM cm_ctl ORDER BY cm_id").fetchall()
    return [*certs, *ctl]


def state(data_dir: Path) -> tuple[Any, ...]:
    """Everything an operation could change: rows, files, trust."""
    with closing(sqlite3.connect(data_dir / "hermes.sqlite3")) as conn:
        rows = conn.execute("SELECT * FROM ca_settings ORDER BY id").fetchall()
    return rows, tree_files(data_dir), trust_rows(data_dir)


def audit_lines(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- JSON shapes ---------------------------------------------------------------------


def test_create_show_and_list_print_ca_objects(data_dir: Path) -> None:
    alpha = create(data_dir, "Alpha Root")
    assert_ca_object(alpha)
    assert (alpha["name"], alpha["directory"], alpha["type"]) == (
        "Alpha Root",
        "AlphaRoot",
        "internal",
    )
    assert (alpha["key_bits"], alpha["default"], alpha["issued"], alpha["trust"]) == (
        2048,
        True,
        0,
        "trusted",
    )
    beta = create(data_dir, "Beta Root", "--years", "1", "--default")
    assert beta["default"] is True
    assert beta["expires"] < alpha["expires"]

    listing = cli(data_dir, "list", "--json")
    by_id = cli(data_dir, "show", str(alpha["id"]), "--json")
    by_name = cli(data_dir, "show", "alpha ROOT", "--json")

    assert listing.code == by_id.code == by_name.code == 0
    cas = listing.json
    assert isinstance(cas, list)
    assert [c["name"] for c in cas] == ["Alpha Root", "Beta Root"]
    for ca in cas:
        assert_ca_object(ca)
    assert [c["default"] for c in cas] == [False, True]
    for shown in (by_id.json, by_name.json):
        assert_ca_object(shown)
        assert {k: shown[k] for k in ("id", "sha256", "sha1", "serial", "expires")} == {
            k: alpha[k] for k in ("id", "sha256", "sha1", "serial", "expires")
        }
        assert shown["default"] is False


def test_set_default_prints_the_new_default(data_dir: Path) -> None:
    _, beta = seed(data_dir, "Alpha Root", "Beta Root")

    run = cli(data_dir, "set-default", "beta root", "--json")

    assert run.code == 0
    assert_ca_object(run.json)
    assert (run.json["id"], run.json["default"]) == (beta["id"], True)
    listing = cli(data_dir, "list", "--json").json
    assert [c["name"] for c in listing if c["default"]] == ["Beta Root"]


def test_import_reads_passphrases_from_a_file_or_stdin_and_never_shows_them(
    data_dir: Path, tmp_path: Path
) -> None:
    secret = PASSPHRASE.encode()
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    first_key, second_key, third_key = rsa_key(2048, 21), rsa_key(2048, 22), rsa_key(2048, 23)
    first = write_pair(
        tmp_path / "one", build_cert("First", first_key), first_key, passphrase=secret
    )
    second = write_pair(
        tmp_path / "two", build_cert("Second", second_key), second_key, passphrase=secret
    )
    bundle = tmp_path / "third.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"third",
            third_key,
            build_cert("Third", third_key),
            None,
            serialization.BestAvailableEncryption(secret),
        )
    )
    base = ("import", "--json")
    wrong_file = tmp_path / "wrong.txt"
    wrong_file.write_text("not it\n")

    wrong = cli(
        data_dir,
        *base,
        "--name",
        "First",
        "--cert",
        str(first.cert),
        "--key",
        str(first.key),
        "--passphrase-file",
        str(wrong_file),
    )
    runs = [
        cli(
            data_dir,
            *base,
            "--name",
            "First",
            "--cert",
            str(first.cert),
            "--key",
            str(first.key),
            "--passphrase-file",
            str(pass_file),
        ),
        cli(
            data_dir,
            *base,
            "--name",
            "Second",
            "--cert",
            str(second.cert),
            "--key",
            str(second.key),
            "--passphrase-file",
            "-",
            stdin=secret + b"\n",
        ),
        cli(
            data_dir,
            *base,
            "--name",
            "Third",
            "--pkcs12",
            str(bundle),
            "--passphrase-file",
            str(pass_file),
        ),
    ]

    assert wrong.code == 3
    assert wrong.error["code"] == "KEY_PASSPHRASE_WRONG"
    for run, name in zip(runs, ("First", "Second", "Third"), strict=True):
        assert run.code == 0, run
        assert_ca_object(run.json)
        assert (run.json["name"], run.json["type"], run.json["trust"]) == (
            name,
            "imported",
            "trusted",
        )
    # The imported key is stored unencrypted for the web UI's `openssl ca`, and is the same key.
    stored = serialization.load_pem_private_key(
        (data_dir / "CA" / "Second" / "root_ca" / "private" / "cakey.pem").read_bytes(), None
    )
    assert rsa_numbers(stored.public_key()) == second_key.public_key().public_numbers()

    leaked = [
        where
        for where, text in (
            ("stdout", "".join(r.out for r in [wrong, *runs])),
            ("stderr", "".join(r.err for r in [wrong, *runs])),
        )
        if PASSPHRASE in text
    ]
    for path in data_dir.rglob("*"):
        if path.is_file() and secret in path.read_bytes():
            leaked.append(str(path))
    assert leaked == []
    assert (data_dir / "hermes-ca-tui.log").is_file()
    assert (data_dir / "audit.jsonl").is_file()


def test_a_passphrase_is_never_accepted_on_the_command_line(data_dir: Path, tmp_path: Path) -> None:
    key = rsa_key(2048, 24)
    files = write_pair(tmp_path, build_cert("Argv", key), key, passphrase=PASSPHRASE.encode())

    run = cli(
        data_dir,
        "import",
        "--name",
        "Argv",
        "--cert",
        str(files.cert),
        "--key",
        str(files.key),
        "--passphrase",
        PASSPHRASE,
        "--json",
    )

    assert run.code == 2
    assert run.error["code"] == "USAGE"
    assert "--passphrase ***" in run.error["message"]
    assert PASSPHRASE not in run.out + run.err
    assert cli(data_dir, "list", "--json").json == []
    log = data_dir / "hermes-ca-tui.log"
    assert PASSPHRASE not in (log.read_text() if log.exists() else "")


def test_import_with_warnings_needs_yes(data_dir: Path, tmp_path: Path) -> None:
    key = rsa_key(2048, 25)
    now = datetime.now(UTC)
    expired = build_cert(
        "Old Root", key, not_before=now - timedelta(days=400), not_after=now - timedelta(days=2)
    )
    files = write_pair(tmp_path, expired, key)
    args = ("import", "--name", "Old Root", "--cert", str(files.cert), "--key", str(files.key))

    refused = cli(data_dir, *args, "--json")
    rows, tree, trust = state(data_dir)
    accepted = cli(data_dir, *args, "--yes", "--json")

    assert refused.code == 3
    assert refused.error["code"] == "WARNINGS_NOT_CONFIRMED"
    assert (rows, tree, trust) == ([], {}, [])
    assert accepted.code == 0
    assert "EXPIRED" in accepted.json["warnings"]


def test_export_is_refused_until_downloads_are_allowed_then_writes_0600_files(
    data_dir: Path, tmp_path: Path
) -> None:
    (ca,) = seed(data_dir, "Alpha Root")
    cert_out, key_out = tmp_path / "ca.pem", tmp_path / "ca.key"
    pass_file = tmp_path / "pw"
    pass_file.write_text(PASSPHRASE)

    refused = cli(
        data_dir, "export", "Alpha Root", "--what", "cert", "--out", str(cert_out), "--json"
    )
    (data_dir / "security.conf").write_text("# ALLOW_CA_DOWNLOAD=yes\nALLOW_CA_DOWNLOAD=YES\n")
    cert_run = cli(
        data_dir, "export", "Alpha Root", "--what", "cert", "--out", str(cert_out), "--json"
    )
    key_run = cli(
        data_dir,
        "export",
        str(ca["id"]),
        "--what",
        "key",
        "--out",
        str(key_out),
        "--encrypt",
        "--passphrase-file",
        str(pass_file),
        "--json",
    )
    again = cli(
        data_dir, "export", "Alpha Root", "--what", "cert", "--out", str(cert_out), "--json"
    )

    assert refused.code == 3
    assert (refused.error["code"], refused.error["m"]) == ("DOWNLOADS_DISABLED", 45)
    assert cert_run.code == 0 and key_run.code == 0
    assert cert_run.json["path"] == str(cert_out)
    assert key_run.json["encrypted"] is True
    cert = x509.load_pem_x509_certificate(cert_out.read_bytes())
    key = serialization.load_pem_private_key(key_out.read_bytes(), PASSPHRASE.encode())
    assert rsa_numbers(cert.public_key()) == rsa_numbers(key.public_key())
    assert stat.S_IMODE(key_out.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_out.stat().st_mode) == 0o600
    assert again.code == 3
    assert again.error["code"] == "OUTPUT_EXISTS"
    texts = [key_run.out, key_run.err, (data_dir / "hermes-ca-tui.log").read_text()]
    texts.append((data_dir / "audit.jsonl").read_text())
    assert not any(PASSPHRASE in t for t in texts)
    assert [r["operation"] for r in audit_lines(data_dir)].count("export-key") == 1


# --- confirmations and dry runs --------------------------------------------------------


def test_renew_dry_run_changes_nothing_and_renew_needs_yes(data_dir: Path) -> None:
    (ca,) = seed(data_dir, "Alpha Root")
    before = state(data_dir)
    audit_before = len(audit_lines(data_dir))

    dry = cli(data_dir, "renew", "Alpha Root", "--dry-run", "--json")
    unconfirmed_json = cli(data_dir, "renew", "Alpha Root", "--json")
    unconfirmed_text = cli(data_dir, "renew", "Alpha Root")

    assert dry.code == 0
    assert dry.json["dry_run"] is True
    assert dry.json["current"]["sha256"] == ca["sha256"]
    assert dry.json["renewed"]["expires"] > ca["expires"]
    assert unconfirmed_json.code == unconfirmed_text.code == 3
    assert unconfirmed_json.error["code"] == "CONFIRMATION_REQUIRED"
    assert "CONFIRMATION_REQUIRED" in unconfirmed_text.err
    assert state(data_dir) == before
    assert len(audit_lines(data_dir)) == audit_before

    renewed = cli(data_dir, "renew", "Alpha Root", "--yes", "--json")

    assert renewed.code == 0
    doc = renewed.json
    assert_ca_object(doc)
    assert doc["id"] == ca["id"]
    assert doc["serial"] != ca["serial"] and doc["sha256"] != ca["sha256"]
    assert doc["expires"] > ca["expires"]
    assert doc["trust"] == "trusted"
    history = data_dir / "CA" / "AlphaRoot" / "root_ca" / "certs" / "history"
    assert len(list(history.glob("*.pem"))) == 1


def test_delete_needs_yes_and_refuses_a_ca_with_issued_certificates(data_dir: Path) -> None:
    alpha, _ = seed(data_dir, "Alpha Root", "Beta Root")
    with closing(sqlite3.connect(data_dir / "hermes.sqlite3")) as conn, conn:
        conn.executemany(
            "INSERT INTO recipient_certificates (ca_id, smime_certificate_name) VALUES (?, ?)",
            [(alpha["id"], "a.pem"), (alpha["id"], "b.pem")],
        )
    before = state(data_dir)

    issued = cli(data_dir, "delete", "Alpha Root", "--yes", "--json")
    unconfirmed = cli(data_dir, "delete", "Beta Root", "--json")
    unconfirmed_text = cli(data_dir, "delete", "Beta Root")

    assert issued.code == 3
    assert (issued.error["code"], issued.error["m"]) == ("HAS_ISSUED_CERTS", 40)
    assert "(2)" in issued.error["message"]
    assert unconfirmed.code == unconfirmed_text.code == 3
    assert unconfirmed.error["code"] == "CONFIRMATION_REQUIRED"
    assert state(data_dir) == before

    deleted = cli(data_dir, "delete", "Beta Root", "--yes", "--json")

    assert deleted.code == 0
    assert deleted.json["deleted"]["name"] == "Beta Root"
    assert Path(deleted.json["archive"]).is_dir()
    assert not (data_dir / "CA" / "BetaRoot").exists()
    assert [c["name"] for c in cli(data_dir, "list", "--json").json] == ["Alpha Root"]


def test_doctor_reports_in_json_and_repairs_only_with_yes(data_dir: Path) -> None:
    seed(data_dir, "Alpha Root")
    clean = cli(data_dir, "doctor", "--json")
    key = data_dir / "CA" / "AlphaRoot" / "root_ca" / "private" / "cakey.pem"
    os.chmod(key, 0o644)
    (data_dir / "CA" / "Stray").mkdir()

    drift = cli(data_dir, "doctor", "--json")
    unconfirmed = cli(data_dir, "doctor", "--repair", "--json")
    mode_after_refusal = stat.S_IMODE(key.stat().st_mode)
    repaired = cli(data_dir, "doctor", "--repair", "--yes", "--json")

    assert (clean.code, clean.json) == (0, {"ok": True, "findings": []})
    assert drift.code == 3
    assert drift.json["ok"] is False
    findings = drift.json["findings"]
    for f in findings:
        assert {"ca", "code", "message", "repairable"} <= set(f)
        assert isinstance(f["message"], str) and f["message"]
    assert {(f["ca"], f["code"], f["repairable"]) for f in findings} == {
        ("Alpha Root", "PERMISSIONS", True),
        ("Stray", "TREE_WITHOUT_ROW", False),
    }
    assert unconfirmed.code == 3
    assert unconfirmed.error["code"] == "CONFIRMATION_REQUIRED"
    assert mode_after_refusal == 0o644
    assert repaired.json["repaired"][0]["code"] == "PERMISSIONS"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # The manual finding remains, so the run still ends "refused by a rule".
    assert repaired.code == 3
    assert [f["code"] for f in repaired.json["findings"]] == ["TREE_WITHOUT_ROW"]
    (data_dir / "CA" / "Stray").rmdir()
    assert cli(data_dir, "doctor").code == 0


def test_doctor_text_output_names_each_finding_and_its_fix(data_dir: Path) -> None:
    seed(data_dir, "Alpha Root")
    os.chmod(data_dir / "CA" / "AlphaRoot", 0o755)

    run = cli(data_dir, "doctor")

    assert run.code == 3
    assert "[PERMISSIONS] Alpha Root:" in run.out
    assert "(repairable)" in run.out
    assert "fix: chmod 0700" in run.out


# --- audit ---------------------------------------------------------------------------


def test_audit_verify_accepts_the_chain_and_catches_a_tampered_line(data_dir: Path) -> None:
    seed(data_dir, "Alpha Root", "Beta Root")
    cli(data_dir, "set-default", "Beta Root")

    good = cli(data_dir, "audit", "verify", "--json")
    path = data_dir / "audit.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["operator"] = "someone-else"
    lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    bad = cli(data_dir, "audit", "verify", "--json")
    bad_text = cli(data_dir, "audit", "verify")

    assert good.code == 0
    assert good.json["ok"] is True
    assert good.json["records"] == 3
    assert bad.code == bad_text.code == 3
    assert bad.error["code"] == "AUDIT_CHAIN_BROKEN"
    assert "line 2" in bad.error["message"]
    assert "AUDIT_CHAIN_BROKEN" in bad_text.err


# --- errors and exit codes -------------------------------------------------------------


def test_refusals_print_one_json_error_with_code_and_m_and_exit_3(data_dir: Path) -> None:
    seed(data_dir, "Alpha Root")
    base = ("create", "--org", "Acme", "--unit", "IT", "--state", "NC", "--country", "US")

    cases = {
        ("CN_CHARSET", 2): cli(data_dir, *base, "--cn", "Bad!Name", "--json"),
        ("DUPLICATE_NAME", 18): cli(data_dir, *base, "--cn", "alpha root", "--json"),
        ("KEY_SIZE_INVALID", None): cli(
            data_dir, *base, "--cn", "Other", "--key-size", "1024", "--json"
        ),
        ("COUNTRY_UNKNOWN", None): cli(
            data_dir, *base[:-1], "XX", "--cn", "Other", "--key-size", "2048", "--json"
        ),
    }
    unknown = cli(data_dir, "show", "Nobody", "--json")

    for (code, m), run in cases.items():
        assert run.code == 3, (code, run)
        assert (run.error["code"], run.error["m"]) == (code, m)
        assert run.error["message"]
        assert run.err == ""
    assert unknown.code == 3
    assert unknown.error["code"] == "CA_NOT_FOUND"
    assert "Nobody" in unknown.error["message"]
    assert [c["name"] for c in cli(data_dir, "list", "--json").json] == ["Alpha Root"]


def test_a_text_error_is_one_line_on_stderr_with_the_code_and_m(data_dir: Path) -> None:
    seed(data_dir, "Alpha Root")

    run = cli(
        data_dir,
        "create",
        "--cn",
        "Alpha Root",
        "--org",
        "Acme",
        "--unit",
        "IT",
        "--state",
        "NC",
        "--country",
        "US",
    )

    assert run.code == 3
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert "DUPLICATE_NAME" in lines[0] and "m=18" in lines[0]
    assert "A Certificate Authority with that name already exists." in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("list", "--bogus"), id="unknown-option"),
        pytest.param(
            ("create", "--org", "Acme", "--unit", "IT", "--state", "NC", "--country", "US"),
            id="missing-cn",
        ),
        pytest.param(("renew",), id="missing-ca"),
        pytest.param(("export", "Alpha", "--what", "crl", "--out", "x"), id="bad-choice"),
        pytest.param(("frobnicate",), id="unknown-command"),
    ],
)
def test_usage_errors_exit_2_in_text_and_in_json(data_dir: Path, args: tuple[str, ...]) -> None:
    text = cli(data_dir, *args)
    as_json = cli(data_dir, *args, "--json")

    assert text.code == as_json.code == 2
    assert "usage:" in text.err
    assert text.out == ""
    assert as_json.error["code"] == "USAGE"
    assert as_json.error["message"]


def test_an_unusable_data_folder_is_an_environment_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    data_dir = blocker / "data"

    as_json = cli(data_dir, "list", "--json")
    text = cli(
        data_dir,
        "create",
        "--cn",
        "X",
        "--org",
        "O",
        "--unit",
        "U",
        "--state",
        "S",
        "--country",
        "US",
    )

    assert as_json.code == text.code == 4
    assert as_json.error["code"] == "STORAGE_FAILED"
    assert str(data_dir) in as_json.error["message"]
    assert len(text.err.strip().splitlines()) == 1
    assert "STORAGE_FAILED" in text.err
    assert blocker.read_text() == "not a folder\n"


def test_an_internal_error_is_one_line_exit_1_and_the_traceback_goes_to_the_log(
    data_dir: Path,
) -> None:
    (ca,) = seed(data_dir, "Alpha Root")
    # A row no web page could write: a NUL byte in the folder name makes path handling
    # raise ValueError deep inside the core.
    with closing(sqlite3.connect(data_dir / "hermes.sqlite3")) as conn, conn:
        conn.execute(
            "UPDATE ca_settings SET ca_directory = 'Al' || char(0) || 'pha' WHERE id = ?",
            (ca["id"],),
        )

    text = cli(data_dir, "list")
    as_json = cli(data_dir, "list", "--json")

    assert text.code == as_json.code == 1
    assert text.out == ""
    assert len(text.err.strip().splitlines()) == 1
    assert "INTERNAL" in text.err
    assert as_json.error["code"] == "INTERNAL"
    assert "Traceback" in (data_dir / "hermes-ca-tui.log").read_text()


# --- human output ----------------------------------------------------------------------


def test_list_text_marks_the_default_and_expiring_and_expired_cas(
    data_dir: Path, tmp_path: Path
) -> None:
    seed(data_dir, "Alpha Root")
    now = datetime.now(UTC)
    soon_key, gone_key = rsa_key(2048, 26), rsa_key(2048, 27)
    soon = write_pair(
        tmp_path / "soon",
        build_cert("Soon", soon_key, not_after=now + timedelta(days=30, hours=12)),
        soon_key,
    )
    gone = write_pair(
        tmp_path / "gone",
        build_cert(
            "Gone",
            gone_key,
            not_before=now - timedelta(days=800),
            not_after=now - timedelta(days=3),
        ),
        gone_key,
    )
    for name, files in (("Soon Root", soon), ("Gone Root", gone)):
        run = cli(
            data_dir,
            "import",
            "--name",
            name,
            "--cert",
            str(files.cert),
            "--key",
            str(files.key),
            "--yes",
        )
        assert run.code == 0, run

    run = cli(data_dir, "list")

    assert run.code == 0
    lines = {line.split("  ")[1].strip(): line for line in run.out.splitlines()[2:]}
    assert set(lines) == {"Alpha Root", "Gone Root", "Soon Root"}
    assert re.search(r"\bYES\b", lines["Alpha Root"])
    assert not re.search(r"\bYES\b", lines["Soon Root"] + lines["Gone Root"])
    assert "(30 days)" in lines["Soon Root"]
    assert "(Expired)" in lines["Gone Root"]
    assert "days)" not in lines["Alpha Root"] and "Expired" not in lines["Alpha Root"]
    assert "Imported" in lines["Soon Root"] and "Internal" in lines["Alpha Root"]
    assert run.out.splitlines()[0].split() == [
        "ID",
        "NAME",
        "TYPE",
        "EXPIRES",
        "KEY",
        "DEFAULT",
        "ISSUED",
        "TRUST",
    ]


def test_show_text_lists_fingerprints_and_folder(data_dir: Path) -> None:
    (ca,) = seed(data_dir, "Alpha Root")

    run = cli(data_dir, "show", "Alpha Root")

    assert run.code == 0
    assert ca["sha256"] in run.out and ca["sha1"] in run.out
    assert str(data_dir / "CA" / "AlphaRoot" / "root_ca") in run.out
    assert "keyCertSign, cRLSign  [critical]" in run.out
