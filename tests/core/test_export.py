"""export: gated by ALLOW_CA_DOWNLOAD=yes at action time; 0600 output; every attempt audited."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.ops.export import ExportFormat, ExportRequest, ExportWhat
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.views import CaDetails
from tests.core.lifecycle import audit_records, der_of, mode
from tests.support import openssl

MakeCa = Callable[..., CaDetails]
PASSPHRASE = b"export passphrase 42"


@pytest.fixture
def ca(make_ca: MakeCa) -> CaDetails:
    return make_ca()


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    """Where exports go (the data folder is elsewhere under tmp_path)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def tree_of(profile: Profile, details: CaDetails) -> CaTree:
    return CaTree.at(profile.ca_root, details.summary.directory)


def request(
    out: Path,
    what: ExportWhat = ExportWhat.CERT,
    fmt: ExportFormat = ExportFormat.PEM,
    **extra: object,
) -> ExportRequest:
    return ExportRequest(ref="Test Root CA", what=what, out=out, format=fmt, **extra)  # type: ignore[arg-type]


def pass_file(folder: Path, secret: bytes = PASSPHRASE) -> Path:
    path = folder / f"pass-{len(list(folder.glob('pass-*')))}.txt"
    path.write_bytes(secret + b"\n")
    path.chmod(0o600)
    return path


def plain_key(path: Path, *extra: str) -> bytes:
    """The key as OpenSSL re-writes it unencrypted (a canonical form to compare)."""
    return openssl("pkey", "-in", str(path), *extra).stdout


# --- the gate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        None,
        "ALLOW_CA_DOWNLOAD=no\n",
        "#ALLOW_CA_DOWNLOAD=yes\n",
        "  # ALLOW_CA_DOWNLOAD=yes\nALLOW_CA_DOWNLOAD=no\n",
        "ALLOW_CA_DOWNLOAD=yesno\n",
        "ALLOW_CA_DOWNLOAD=true\n",
        "ALLOW_CA_DOWNLOAD=1\n",
        "ALLOW_CA_DOWNLOAD=\n",
        "ALLOW_CERT_DOWNLOAD=yes\n",
        "XALLOW_CA_DOWNLOAD=yes\n",
        "ALLOW_CA_DOWNLOAD=yes\nALLOW_CA_DOWNLOAD=no\n",
    ],
    ids=[
        "missing",
        "no",
        "commented",
        "indented-comment",
        "yesno",
        "true",
        "one",
        "empty",
        "other-key",
        "prefixed-key",
        "last-wins-no",
    ],
)
@pytest.mark.parametrize("what", [ExportWhat.CERT, ExportWhat.KEY])
def test_export_is_refused_with_m45_unless_the_switch_says_exactly_yes(
    profile: Profile,
    service: CaService,
    ca: CaDetails,
    outdir: Path,
    content: str | None,
    what: ExportWhat,
) -> None:
    if content is None:
        profile.security_conf.unlink()
    else:
        profile.security_conf.write_text(content)
    out = outdir / "out.pem"
    records = len(audit_records(profile))
    with pytest.raises(CaError) as caught:
        service.export(request(out, what))
    assert (caught.value.code, caught.value.m) == (Code.DOWNLOADS_DISABLED, 45)
    assert not out.exists()
    assert list(outdir.iterdir()) == []
    new = audit_records(profile)[records:]
    assert [(r["operation"], r["outcome"]) for r in new] == [
        (f"export-{what.value}", "refused:DOWNLOADS_DISABLED")
    ]


def test_the_embedded_default_starts_with_downloads_disabled(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path
) -> None:
    assert "ALLOW_CA_DOWNLOAD=no" in profile.security_conf.read_text().splitlines()
    assert not service.download_gate().allowed
    with pytest.raises(CaError):
        service.export(request(outdir / "out.pem"))


@pytest.mark.parametrize(
    "content",
    [
        "ALLOW_CA_DOWNLOAD=yes\n",
        "ALLOW_CA_DOWNLOAD=YES\n",
        "# comment\nALLOW_CA_DOWNLOAD=no\nALLOW_CA_DOWNLOAD=yes\n",
    ],
    ids=["yes", "upper", "last-wins-yes"],
)
def test_export_is_allowed_with_yes(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, content: str
) -> None:
    profile.security_conf.write_text(content)
    result = service.export(request(outdir / "out.pem"))
    assert result.path.is_file()


def test_the_switch_is_re_read_at_every_export(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path
) -> None:
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    service.export(request(outdir / "one.pem"))
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=no\n")
    with pytest.raises(CaError) as caught:
        service.export(request(outdir / "two.pem"))
    assert caught.value.code is Code.DOWNLOADS_DISABLED
    assert not (outdir / "two.pem").exists()
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    service.export(request(outdir / "three.pem"))
    assert (outdir / "three.pem").is_file()


# --- what is written ---------------------------------------------------------------------


def test_cert_pem_export_is_the_trees_certificate(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.pem"
    service.export(request(out))
    cert_path = tree_of(profile, ca).cert_path
    assert out.read_bytes() == cert_path.read_bytes()
    assert mode(out) == 0o600


def test_cert_der_export_is_the_trees_certificate_in_der(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.der"
    service.export(request(out, fmt=ExportFormat.DER))
    assert out.read_bytes() == der_of(tree_of(profile, ca).cert_path)
    assert mode(out) == 0o600


def test_plain_key_export_loads_without_passphrase_and_matches(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key"
    result = service.export(request(out, ExportWhat.KEY))
    assert not result.encrypted
    assert mode(out) == 0o600
    tree = tree_of(profile, ca)
    assert plain_key(out) == plain_key(tree.key_path)
    key_pub = openssl("pkey", "-in", str(out), "-pubout").stdout
    cert_pub = openssl("x509", "-in", str(tree.cert_path), "-noout", "-pubkey").stdout
    assert key_pub == cert_pub


def test_encrypted_key_export_is_pkcs8_aes256_and_opens_only_with_the_passphrase(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key"
    result = service.export(request(out, ExportWhat.KEY, passphrase=PASSPHRASE))
    assert result.encrypted
    assert mode(out) == 0o600
    data = out.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    structure = openssl("asn1parse", "-in", str(out)).stdout.decode()
    assert "PBES2" in structure
    assert "PBKDF2" in structure
    assert "aes-256-cbc" in structure
    secrets = outdir / "secrets"
    secrets.mkdir()
    right = pass_file(secrets)
    opened = plain_key(out, "-passin", f"file:{right}")
    assert opened == plain_key(tree_of(profile, ca).key_path)
    wrong = pass_file(secrets, b"not the passphrase")
    refused = openssl("pkey", "-in", str(out), "-passin", f"file:{wrong}", check=False)
    assert refused.returncode != 0
    assert b"PRIVATE KEY" not in refused.stdout
    assert PASSPHRASE not in profile.audit_log.read_bytes()


def test_encrypted_der_key_export_opens_with_the_passphrase(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key.der"
    service.export(request(out, ExportWhat.KEY, ExportFormat.DER, passphrase=PASSPHRASE))
    secrets = outdir / "secrets"
    secrets.mkdir()
    opened = plain_key(out, "-inform", "DER", "-passin", f"file:{pass_file(secrets)}")
    assert opened == plain_key(tree_of(profile, ca).key_path)


def test_empty_passphrase_is_refused(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key"
    with pytest.raises(CaError) as caught:
        service.export(request(out, ExportWhat.KEY, passphrase=b""))
    assert caught.value.code is Code.PASSPHRASE_EMPTY
    assert not out.exists()


def test_export_by_id_and_by_lower_case_name(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    a = service.export(ExportRequest(ca.summary.id, ExportWhat.CERT, outdir / "a.pem"))
    b = service.export(ExportRequest("test root ca", ExportWhat.CERT, outdir / "b.pem"))
    assert a.ca_id == b.ca_id == ca.summary.id
    assert (outdir / "a.pem").read_bytes() == (outdir / "b.pem").read_bytes()


# --- existing files ------------------------------------------------------------------------


def test_an_existing_file_is_not_overwritten_without_consent(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key"
    out.write_bytes(b"precious\n")
    out.chmod(0o644)
    with pytest.raises(CaError) as caught:
        service.export(request(out, ExportWhat.KEY))
    assert caught.value.code is Code.OUTPUT_EXISTS
    assert out.read_bytes() == b"precious\n"
    assert sorted(p.name for p in outdir.iterdir()) == ["ca.key"]


def test_overwrite_replaces_the_file_and_makes_it_0600(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key"
    out.write_bytes(b"old\n")
    out.chmod(0o644)
    service.export(request(out, ExportWhat.KEY, overwrite=True))
    assert plain_key(out) == plain_key(tree_of(profile, ca).key_path)
    assert mode(out) == 0o600
    assert sorted(p.name for p in outdir.iterdir()) == ["ca.key"]


def test_export_does_not_follow_a_symlink_planted_at_the_output(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    target = outdir / "elsewhere"
    target.write_bytes(b"keep\n")
    link = outdir / "ca.key"
    link.symlink_to(target)
    with pytest.raises(CaError) as caught:
        service.export(request(link, ExportWhat.KEY))
    assert caught.value.code is Code.OUTPUT_EXISTS
    assert target.read_bytes() == b"keep\n"


# --- the audit trail -----------------------------------------------------------------------


def test_every_export_and_every_refusal_writes_an_audit_record(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path
) -> None:
    def outcomes_after(action: Callable[[], object]) -> list[tuple[str, str]]:
        count = len(audit_records(profile))
        with contextlib.suppress(CaError):
            action()
        return [(r["operation"], r["outcome"]) for r in audit_records(profile)[count:]]

    assert outcomes_after(lambda: service.export(request(outdir / "a.key", ExportWhat.KEY))) == [
        ("export-key", "refused:DOWNLOADS_DISABLED")
    ]
    profile.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    assert outcomes_after(lambda: service.export(request(outdir / "a.key", ExportWhat.KEY))) == [
        ("export-key", "ok")
    ]
    assert outcomes_after(lambda: service.export(request(outdir / "a.pem"))) == [
        ("export-cert", "ok")
    ]
    assert outcomes_after(lambda: service.export(request(outdir / "a.key", ExportWhat.KEY))) == [
        ("export-key", "refused:OUTPUT_EXISTS")
    ]
    missing = ExportRequest("No Such CA", ExportWhat.KEY, outdir / "b.key")
    assert outcomes_after(lambda: service.export(missing)) == [
        ("export-key", "refused:CA_NOT_FOUND")
    ]


def test_key_export_audit_record_names_the_ca_path_and_encryption(
    profile: Profile, service: CaService, ca: CaDetails, outdir: Path, allow_downloads: Path
) -> None:
    out = outdir / "ca.key"
    service.export(request(out, ExportWhat.KEY, passphrase=PASSPHRASE))
    record = audit_records(profile)[-1]
    assert record["operation"] == "export-key"
    assert record["ca"] == {"id": ca.summary.id, "name": "Test Root CA"}
    assert record["details"]["path"] == str(out.resolve())
    assert record["details"]["encrypted"] is True
    assert record["fingerprints"]["sha256"] == ca.summary.sha256
    assert service.audit_verify().ok
