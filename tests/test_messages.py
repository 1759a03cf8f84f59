"""Operator wording for every code (PRODUCT §3 "Message codes", appliance-facts §1.1)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hermes_ca_tui.core.errors import CaError, Code, Kind, Notice, WarningCode
from hermes_ca_tui.core.findings import FindingCode
from hermes_ca_tui.messages import (
    SUCCESS,
    Described,
    describe,
    describe_code,
    describe_finding,
    describe_notice,
    describe_repair,
    describe_success,
)
from tests.support import REPO

# Parameters as the core supplies them (see the raise sites), with realistic values.
PATH = "/opt/hermes/CA/MyRootCA/root_ca/certs/cacert.pem"
CODE_PARAMS: dict[Code, dict[str, Any]] = {
    Code.CN_EMPTY: {},
    Code.CN_CHARSET: {},
    Code.CN_TOO_LONG: {"max": 64},
    Code.ORG_EMPTY: {},
    Code.ORG_CHARSET: {},
    Code.ORG_TOO_LONG: {"max": 64},
    Code.UNIT_EMPTY: {},
    Code.UNIT_CHARSET: {},
    Code.UNIT_TOO_LONG: {"max": 64},
    Code.STATE_EMPTY: {},
    Code.STATE_CHARSET: {},
    Code.STATE_TOO_LONG: {"max": 64},
    Code.COUNTRY_LENGTH: {},
    Code.COUNTRY_CHARSET: {},
    Code.COUNTRY_UNKNOWN: {"value": "UK"},
    Code.KEY_SIZE_INVALID: {},
    Code.VALIDITY_INVALID: {},
    Code.DUPLICATE_NAME: {"name": "My Root CA"},
    Code.CREATE_FAILED: {"reason": "key generation failed"},
    Code.IMPORT_FAILED: {"reason": "disk full"},
    Code.IMPORT_NAME_EMPTY: {},
    Code.IMPORT_NAME_CHARSET: {},
    Code.IMPORT_NAME_TOO_LONG: {"max": 64},
    Code.CERT_FILE_MISSING: {},
    Code.KEY_FILE_MISSING: {},
    Code.FILE_UNREADABLE: {"path": "/root/ca.pem", "reason": "Permission denied"},
    Code.FILE_TOO_LARGE: {"path": "/root/ca.pem", "limit": 1048576},
    Code.INVALID_CERT: {},
    Code.INVALID_KEY: {},
    Code.KEY_NOT_RSA: {"algorithm": "EC"},
    Code.KEY_PASSPHRASE_REQUIRED: {},
    Code.KEY_PASSPHRASE_WRONG: {},
    Code.PKCS12_INVALID: {},
    Code.PKCS12_NO_KEY: {},
    Code.KEY_MISMATCH: {},
    Code.NOT_CA: {},
    Code.CA_KEY_EXISTS: {"name": "Old Root"},
    Code.WARNINGS_NOT_CONFIRMED: {"count": 2, "warnings": "EXPIRED, WEAK_KEY"},
    Code.CONFIRMATION_REQUIRED: {"what": "Deleting My Root CA"},
    Code.CA_NOT_FOUND: {"ref": "Nope CA"},
    Code.HAS_ISSUED_CERTS: {"count": 3},
    Code.RENEW_FILES_MISSING: {"path": PATH},
    Code.RENEW_NOT_SELF_SIGNED: {"issuer": "CN=Corp Root,O=Acme"},
    Code.RENEW_SUBJECT_ENCODING: {},
    Code.PLAN_STALE: {},
    Code.DOWNLOADS_DISABLED: {"path": "/opt/hermes/config/security.conf"},
    Code.EXPORT_FILE_MISSING: {"path": PATH},
    Code.EXPORT_WHAT_INVALID: {"what": "--encrypt applies to keys only"},
    Code.OUTPUT_EXISTS: {"path": "/root/ca.pem"},
    Code.OUTPUT_UNWRITABLE: {"path": "/root/ca.pem", "reason": "Read-only file system"},
    Code.PASSPHRASE_EMPTY: {},
    Code.PASSPHRASE_UNREADABLE: {"path": "/root/pass", "reason": "No such file or directory"},
    Code.AUDIT_CHAIN_BROKEN: {"line": 3, "reason": "content was altered"},
    Code.NOTHING_TO_REPAIR: {},
    Code.LOCK_TIMEOUT: {"path": "/opt/hermes/CA/.hermes-ca-tui/lock"},
    Code.DATABASE_UNAVAILABLE: {"database": "hermes", "reason": "connection refused"},
    Code.TRUST_UNAVAILABLE: {
        "reason": "no Docker socket at /var/run/docker.sock",
        "hint": "Check that Docker is running.",
    },
    Code.TRUST_FAILED: {"reason": "the imported certificate did not appear in cm_certificates"},
    Code.STORAGE_FAILED: {"path": "/opt/hermes/CA", "reason": "No space left on device"},
    Code.CONFIG_INVALID: {"reason": "unsupported hermes database URL: 'ftp://x'"},
    Code.USAGE: {"reason": "the following arguments are required: --cn"},
    Code.INTERNAL: {"reason": "RuntimeError: see the log file"},
}

NOTICE_PARAMS: dict[WarningCode, dict[str, Any]] = {
    WarningCode.EXPIRED: {"date": "2025-01-31"},
    WarningCode.NOT_YET_VALID: {"date": "2027-01-01T00:00:00+00:00"},
    WarningCode.NO_KEY_CERT_SIGN: {},
    WarningCode.WEAK_SIGNATURE: {"algorithm": "sha1WithRSAEncryption"},
    WarningCode.WEAK_KEY: {"bits": 1024},
    WarningCode.NOT_SELF_SIGNED: {"issuer": "CN=Corp Root"},
    WarningCode.CHAIN_INCOMPLETE: {"issuer": "CN=Corp Root"},
    WarningCode.PUBLISHED_KEY: {"label": "Hermes SEG Root CA (legacy sample)"},
    WarningCode.AKI_NAMES_OLD_SERIAL: {"count": 2, "names": "alice@example.org, bob@example.org"},
    WarningCode.ISSUED_NOT_CHAINING: {"count": 1, "names": "carol@example.org"},
    WarningCode.CLIENTS_MUST_UPDATE: {},
}

FINDING_PARAMS: dict[FindingCode, dict[str, Any]] = {
    FindingCode.ROW_WITHOUT_TREE: {"path": "/opt/hermes/CA/MyRootCA"},
    FindingCode.TREE_WITHOUT_ROW: {"path": "/opt/hermes/CA/Stray"},
    FindingCode.CERT_MISSING: {"path": PATH},
    FindingCode.CERT_UNREADABLE: {"path": PATH},
    FindingCode.KEY_MISSING: {"path": PATH},
    FindingCode.KEY_UNREADABLE: {"path": PATH},
    FindingCode.KEY_CERT_MISMATCH: {},
    FindingCode.PERMISSIONS: {"path": PATH, "mode": "0644", "expected": "0600"},
    FindingCode.TREE_INCOMPLETE: {"missing": "serial, index.txt"},
    FindingCode.CACHAIN_DIFFERS: {},
    FindingCode.NOT_TRUSTED: {},
    FindingCode.NOT_IN_ROOTS: {"store": "certificates"},
    FindingCode.CTL_MISSING: {},
    FindingCode.NOT_WHITELISTED: {"status": "blacklisted", "allow_expired": "true"},
    FindingCode.TRUST_ORPHANED: {"subject": "CN=Old Root", "reason": "its CA was deleted"},
    FindingCode.DEFAULT_COUNT: {"count": 2, "target": "My Root CA"},
    FindingCode.EXPIRES_MISMATCH: {"row": "2030-01-01", "cert": "2031-12-02"},
    FindingCode.DJIGZO_ID_MISMATCH: {"row": "nothing", "actual": 17},
    FindingCode.DUPLICATE_DIRECTORY: {"path": "MyCA", "names": "My CA, MyCA"},
    FindingCode.DUPLICATE_NAME: {"name": "My CA"},
    FindingCode.PUBLISHED_KEY: {"label": "Hermes SEG Root CA (legacy sample)"},
    FindingCode.TRUST_UNKNOWN: {"reason": "connection refused"},
    FindingCode.SERIAL_INVALID: {"path": "/opt/hermes/CA/MyRootCA/root_ca/serial"},
}

# appliance-facts §1.1: m -> (heading, text) of the web page.
WEB_MESSAGES: dict[int, tuple[str, str]] = {
    1: ("Validation Error", "The CA Common Name cannot be empty."),
    2: ("Validation Error", "The CA Common Name must contain only letters, numbers, and spaces."),
    9: ("Validation Error", "The Organization/Company Name cannot be empty."),
    10: ("Validation Error", "The Organization/Company Name contains invalid characters."),
    11: ("Validation Error", "The Organization Unit cannot be empty."),
    12: ("Validation Error", "The Organization Unit contains invalid characters."),
    13: ("Validation Error", "The State/Province cannot be empty."),
    14: ("Validation Error", "The State/Province must contain only letters."),
    15: ("Validation Error", "The Country Code must be exactly 2 letters (e.g. US, GB, DE)."),
    16: ("Validation Error", "The Country Code must contain only letters."),
    18: ("Duplicate", "A Certificate Authority with that name already exists."),
    19: (
        "Error",
        "An error occurred while creating the Certificate Authority. Please check the logs.",
    ),
    30: ("Validation Error", "The CA Name for import cannot be empty."),
    31: ("Validation Error", "The CA Name must contain only letters, numbers, and spaces."),
    32: ("Validation Error", "Please select a CA certificate file to upload."),
    33: ("Validation Error", "Please select a CA private key file to upload."),
    40: (
        "Cannot Delete",
        "This Certificate Authority has issued certificates. Delete the associated user "
        "certificates first.",
    ),
    44: (
        "Error",
        "Failed to renew Certificate Authority. Certificate or key files may be missing.",
    ),
    45: (
        "Access Denied",
        "CA file downloads are disabled. Set ALLOW_CA_DOWNLOAD=yes in "
        "/opt/hermes/config/security.conf to enable.",
    ),
    34: ("Error", "Failed to create CA directory structure."),
    46: ("Error", "Invalid download request."),
    47: ("Error", "CA file not found on disk."),
    48: (
        "Invalid Certificate",
        "The uploaded file is not a valid X.509 certificate. Please upload a PEM-encoded CA "
        "certificate.",
    ),
    49: (
        "Invalid Private Key",
        "The uploaded file is not a valid RSA private key. Please upload a PEM-encoded "
        "private key.",
    ),
    50: (
        "Key Mismatch",
        "The certificate and private key do not match. The private key must correspond to "
        "the uploaded certificate.",
    ),
    51: (
        "Not a CA Certificate",
        "The uploaded certificate does not have the CA:TRUE basic constraint. Only CA "
        "certificates can be imported here.",
    ),
}

# Codes whose text is the web page's word for word.
VERBATIM = [
    Code.CN_EMPTY,
    Code.CN_CHARSET,
    Code.ORG_EMPTY,
    Code.UNIT_EMPTY,
    Code.STATE_EMPTY,
    Code.COUNTRY_LENGTH,
    Code.COUNTRY_CHARSET,
    Code.DUPLICATE_NAME,
    Code.IMPORT_NAME_EMPTY,
    Code.IMPORT_NAME_CHARSET,
]

# The module's documented exception: we read files, nothing is uploaded, and DER is
# accepted too. Applied to the web text before comparing.
UPLOAD_WORDING = [
    ("The uploaded file", "The file"),
    ("The uploaded certificate", "The certificate"),
    ("the uploaded certificate", "the certificate"),
    ("Please upload a PEM-encoded", "Please provide a PEM- or DER-encoded"),
    (" file to upload.", " file"),
]

# Codes with a web number whose text is deliberately not the web page's, and why.
NEW_MEANING = {
    Code.KEY_NOT_RSA: "shares m=49 with INVALID_KEY (PRODUCT §3) but says why: not RSA",
    Code.IMPORT_FAILED: "m=34 covers any failure placing an import, not only its folders",
}


# Codes whose advice after the first sentence is replaced, and why.
REPLACED_ADVICE = {
    Code.CREATE_FAILED: '"Please check the logs" becomes the reason and "Nothing was changed"',
}


def web_text_as_files(text: str) -> str:
    for old, new in UPLOAD_WORDING:
        text = text.replace(old, new)
    return text


def described(code: Code) -> Described:
    return describe(CaError(code, **CODE_PARAMS[code]))


# --- completeness -------------------------------------------------------------------


def test_the_parameter_tables_cover_every_member() -> None:
    assert set(CODE_PARAMS) == set(Code)
    assert set(NOTICE_PARAMS) == set(WarningCode)
    assert set(FINDING_PARAMS) == set(FindingCode)


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.name)
def test_every_code_has_operator_wording(code: Code) -> None:
    words = described(code)
    assert words.code == code.name
    assert words.m == code.m
    assert words.heading.strip()
    assert words.text.strip()
    assert code.name not in words.text
    assert words.text != code.name
    assert len(words.text) > 15


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.name)
def test_every_code_placeholder_is_filled_by_realistic_parameters(code: Code) -> None:
    words = described(code)
    assert "{" not in words.text
    assert "}" not in words.text
    assert "?" not in words.text, words.text
    for value in CODE_PARAMS[code].values():
        if code is not Code.DUPLICATE_NAME:
            assert str(value) in words.text


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.name)
def test_describe_never_raises_or_shows_a_brace_without_parameters(code: Code) -> None:
    words = describe_code(code)
    assert "{" not in words.text
    assert "}" not in words.text
    assert words.text.strip()


@pytest.mark.parametrize("code", list(WarningCode), ids=lambda c: c.name)
def test_every_warning_has_operator_wording_with_its_placeholders_filled(
    code: WarningCode,
) -> None:
    text = describe_notice(Notice(code, NOTICE_PARAMS[code]))
    assert code.name not in text
    assert code.value not in text
    assert "{" not in text and "}" not in text
    assert "?" not in text
    for value in NOTICE_PARAMS[code].values():
        assert str(value) in text
    assert "{" not in describe_notice(Notice(code))


@pytest.mark.parametrize("code", list(FindingCode), ids=lambda c: c.name)
def test_every_finding_has_operator_wording_with_its_placeholders_filled(
    code: FindingCode,
) -> None:
    params = FINDING_PARAMS[code]
    text = describe_finding(code, params)
    assert code.name not in text
    assert "{" not in text and "}" not in text
    assert "?" not in text
    for key, value in params.items():
        if key != "target":  # only the repair sentence names the target
            assert str(value) in text
    assert "{" not in describe_finding(code, {})
    repair = describe_repair(code, params)
    if repair is not None:
        assert "{" not in repair and "?" not in repair


def test_repairable_findings_describe_their_fix() -> None:
    assert describe_repair(FindingCode.PERMISSIONS, FINDING_PARAMS[FindingCode.PERMISSIONS]) == (
        f"chmod 0600 {PATH}"
    )
    repair = describe_repair(FindingCode.DEFAULT_COUNT, FINDING_PARAMS[FindingCode.DEFAULT_COUNT])
    assert repair == "make My Root CA the only default"
    assert describe_repair(FindingCode.KEY_MISSING, {}) is None


@pytest.mark.parametrize("operation", sorted(SUCCESS))
def test_every_success_sentence_is_filled(operation: str) -> None:
    text = describe_success(operation, expires="2031-12-02", path="/root/ca.pem", count=2)
    assert "{" not in text and "?" not in text


def test_success_messages_keep_the_web_pages_numbers_and_text() -> None:
    assert SUCCESS["create"] == (17, "Internal Certificate Authority created successfully.")
    assert SUCCESS["import"] == (36, "External Certificate Authority imported successfully.")
    assert SUCCESS["delete"] == (41, "Certificate Authority deleted successfully.")
    assert SUCCESS["set-default"] == (42, "Default Certificate Authority updated.")
    assert SUCCESS["renew"][0] == 43
    assert describe_success("renew", expires="2031-12-02") == (
        "Certificate Authority renewed: it now expires on 2031-12-02."
    )


# --- the web page's wording ---------------------------------------------------------


def codes_with_web_text() -> Iterator[Code]:
    return (code for code in Code if code.m in WEB_MESSAGES)


@pytest.mark.parametrize("code", list(codes_with_web_text()), ids=lambda c: c.name)
def test_codes_with_a_web_number_keep_the_web_pages_heading(code: Code) -> None:
    assert code.m is not None
    assert described(code).heading == WEB_MESSAGES[code.m][0]


@pytest.mark.parametrize("code", VERBATIM, ids=lambda c: c.name)
def test_validation_and_duplicate_texts_are_the_web_pages_word_for_word(code: Code) -> None:
    assert code.m is not None
    assert described(code).text == WEB_MESSAGES[code.m][1]


@pytest.mark.parametrize(
    "code",
    [c for c in codes_with_web_text() if c not in VERBATIM and c not in NEW_MEANING],
    ids=lambda c: c.name,
)
def test_other_codes_with_a_web_number_start_with_the_web_pages_sentence(code: Code) -> None:
    assert code.m is not None
    web = web_text_as_files(WEB_MESSAGES[code.m][1])
    ours = described(code).text
    # The first sentence is kept; details (counts, paths, allowed characters) may follow.
    first = web.split(". ")[0].rstrip(".")
    assert ours.startswith(first), (ours, first)
    # The sentences after it are kept too, except where we replaced them on purpose.
    rest = web[len(first) :].lstrip(".").strip()
    if rest and code not in REPLACED_ADVICE:
        assert rest.rstrip(".") in ours


def test_the_state_text_admits_spaces_as_the_rule_does() -> None:
    # The web page's m=14 text says "only letters" though spaces pass (AF §1.2).
    assert "spaces" in described(Code.STATE_CHARSET).text


def test_the_new_meanings_of_web_numbers_are_the_only_departures() -> None:
    for code in NEW_MEANING:
        assert code.m in WEB_MESSAGES
        assert described(code).text != web_text_as_files(WEB_MESSAGES[code.m][1])


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.name)
def test_json_errors_carry_code_m_and_message(code: Code) -> None:
    words = described(code)
    assert words.as_json() == {"code": code.name, "m": code.m, "message": words.text}
    tag = f"({code.name}, m={code.m})" if code.m is not None else f"({code.name})"
    assert words.one_line() == f"{words.heading}: {words.text} {tag}"


def test_refusals_and_environment_problems_have_their_exit_codes() -> None:
    assert Code.NOT_CA.kind is Kind.REFUSED
    assert Code.HAS_ISSUED_CERTS.kind.value == 3
    assert Code.DOWNLOADS_DISABLED.kind.value == 3
    assert Code.DATABASE_UNAVAILABLE.kind.value == 4
    assert Code.TRUST_UNAVAILABLE.kind.value == 4
    assert Code.INTERNAL.kind.value == 1


# --- every raise site in the package supplies what its sentence needs ---------------


def _raise_sites() -> Iterator[tuple[str, Code | WarningCode, set[str]]]:
    """``CaError(Code.X, k=...)`` and ``Notice(WarningCode.X, {...})`` calls in the package."""
    for path in sorted((REPO / "hermes_ca_tui").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        where = str(path.relative_to(REPO))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if not node.args or not isinstance(node.args[0], ast.Attribute):
                continue
            owner = node.args[0].value
            member = node.args[0].attr
            if node.func.id == "CaError" and isinstance(owner, ast.Name) and owner.id == "Code":
                if any(k.arg is None for k in node.keywords):
                    continue  # **params: checked where they are built
                keys = {k.arg for k in node.keywords if k.arg and k.arg != "field"}
                yield f"{where}:{node.lineno}", Code[member], keys
            elif (
                node.func.id == "Notice"
                and isinstance(owner, ast.Name)
                and owner.id == "WarningCode"
            ):
                params = node.args[1] if len(node.args) > 1 else None
                if params is None:
                    yield f"{where}:{node.lineno}", WarningCode[member], set()
                elif isinstance(params, ast.Dict) and all(
                    isinstance(k, ast.Constant) for k in params.keys
                ):
                    keys = {str(k.value) for k in params.keys if isinstance(k, ast.Constant)}
                    yield f"{where}:{node.lineno}", WarningCode[member], keys


RAISE_SITES = list(_raise_sites())


def test_the_raise_site_scan_finds_the_package_s_errors() -> None:
    codes = {code for _, code, _ in RAISE_SITES}
    assert len(RAISE_SITES) > 30
    assert {Code.KEY_MISMATCH, Code.DOWNLOADS_DISABLED, WarningCode.EXPIRED} <= codes


@pytest.mark.parametrize(
    ("site", "code", "keys"), RAISE_SITES, ids=[site for site, _, _ in RAISE_SITES]
)
def test_each_raise_site_supplies_every_placeholder_of_its_sentence(
    site: str, code: Code | WarningCode, keys: set[str]
) -> None:
    params = {key: f"<{key}>" for key in keys}
    if isinstance(code, Code):
        text = describe_code(code, params).text
    else:
        text = describe_notice(Notice(code, params))
    assert "?" not in text, f"{site}: {code.name} is raised without a parameter: {text}"


def test_messages_module_is_importable_without_the_ui() -> None:
    source = Path(REPO / "hermes_ca_tui" / "messages.py").read_text()
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert not imported & {"textual", "rich"}
