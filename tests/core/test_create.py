"""create: what the three stores hold afterwards, checked with sqlite3, os.stat and OpenSSL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.views import CaDetails
from tests.core.lifecycle import (
    assert_unchanged,
    audit_records,
    ca_row,
    ca_rows,
    cm_certificates,
    cm_ctl,
    ctl_values,
    default_ids,
    der_of,
    execute,
    index_lines,
    mint,
    mode,
    openssl_date,
    snapshot,
    thumbprint_of,
    verify,
    x509_field,
    x509_text,
)
from tests.support import create_request, openssl

MakeCa = Callable[..., CaDetails]


def tree_of(profile: Profile, details: CaDetails) -> CaTree:
    return CaTree.at(profile.ca_root, details.summary.directory)


# --- the certificate -----------------------------------------------------------------


def test_created_ca_verifies_against_itself_with_openssl(profile: Profile, make_ca: MakeCa) -> None:
    tree = tree_of(profile, make_ca())
    ok, output = verify(tree.cert_path, tree.cert_path)
    assert ok, output


def test_created_ca_has_the_root_profile_in_openssl_text(profile: Profile, make_ca: MakeCa) -> None:
    tree = tree_of(profile, make_ca())
    text = x509_text(tree.cert_path)
    assert re.search(r"X509v3 Basic Constraints: critical\s+CA:TRUE\n", text), text
    assert "pathlen" not in text
    assert re.search(r"X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n", text), text
    assert "X509v3 Subject Key Identifier:" in text
    assert "Extended Key Usage" not in text
    assert text.count("Signature Algorithm: sha256WithRSAEncryption") == 2
    assert "Public-Key: (2048 bit)" in text


def test_created_ca_subject_is_the_requested_fields_and_issuer_equals_subject(
    profile: Profile, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca("Subject Check CA", country="de"))
    subject = x509_field(tree.cert_path, "-subject")
    assert subject == (
        'C = DE, ST = North Carolina, O = "Acme, Inc", OU = IT_Security, CN = Subject Check CA'
    )
    assert x509_field(tree.cert_path, "-issuer") == subject


def test_created_ca_ski_is_the_sha1_of_its_key_and_serial_is_random(
    profile: Profile, make_ca: MakeCa
) -> None:
    first = tree_of(profile, make_ca("First CA"))
    second = tree_of(profile, make_ca("Second CA"))
    cert = x509.load_pem_x509_certificate(first.cert_path.read_bytes())
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    serials = {x509_field(t.cert_path, "-serial") for t in (first, second)}
    assert len(serials) == 2
    assert all(len(s) >= 16 for s in serials)  # random, not the 0100 of the tree's files


def test_created_4096_bit_ca_has_a_4096_bit_key_and_row_encryption_4096(
    profile: Profile, make_ca: MakeCa
) -> None:
    details = make_ca("Big Key CA", key_size=4096)
    tree = tree_of(profile, details)
    assert "Public-Key: (4096 bit)" in x509_text(tree.cert_path)
    key_text = openssl("pkey", "-in", str(tree.key_path), "-noout", "-text").stdout.decode()
    assert "Private-Key: (4096 bit" in key_text
    assert ca_row(profile, details.summary.id)["encryption"] == "4096"


# --- the tree ------------------------------------------------------------------------


def test_created_tree_has_every_file_and_folder_of_the_appliance_layout(
    profile: Profile, make_ca: MakeCa
) -> None:
    root = tree_of(profile, make_ca()).root
    for folder in ("certs", "crl", "newcerts", "private", "requests", "PFX"):
        assert (root / folder).is_dir(), folder
    for name in ("openssl.cnf", "certs/cacert.pem", "private/cakey.pem", "cachain.pem"):
        assert (root / name).is_file(), name
    assert (root / "serial").read_text().strip() == "0100"
    assert (root / "crlnumber").read_text().strip() == "0100"
    assert (root / "index.txt").read_bytes() == b""
    assert (root / "cachain.pem").read_bytes() == (root / "certs/cacert.pem").read_bytes()
    cnf = (root / "openssl.cnf").read_text()
    assert re.search(rf"^dir = {re.escape(str(root))}$", cnf, re.M), cnf


def test_created_key_is_0600_and_ca_folders_are_0700(profile: Profile, make_ca: MakeCa) -> None:
    tree = tree_of(profile, make_ca())
    assert mode(tree.key_path) == 0o600
    assert mode(tree.folder) == 0o700
    assert mode(tree.root) == 0o700
    assert mode(tree.root / "private") == 0o700


def test_created_key_is_unencrypted_rsa_matching_the_certificate(
    profile: Profile, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    key_pub = openssl("pkey", "-in", str(tree.key_path), "-pubout", "-passin", "pass:").stdout
    cert_pub = openssl("x509", "-in", str(tree.cert_path), "-noout", "-pubkey").stdout
    assert key_pub == cert_pub
    assert b"ENCRYPTED" not in tree.key_path.read_bytes()


# --- minting from the tree with the web UI's commands --------------------------------


def test_openssl_ca_mints_a_leaf_that_verifies_and_updates_index_and_serial(
    profile: Profile, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca())
    leaf = mint(tree.root, tmp_path / "work", "a@example.com")
    ok, output = verify(tree.cert_path, leaf)
    assert ok, output
    lines = index_lines(tree.root)
    assert len(lines) == 1
    status, _expiry, revoked, serial, _file, subject = lines[0]
    assert (status, revoked, serial) == ("V", "", "0100")
    assert subject == "/CN=a@example.com/emailAddress=a@example.com"
    assert (tree.root / "serial").read_text().strip() == "0101"
    assert x509_field(leaf, "-serial") == "0100"
    assert (tree.root / "newcerts" / "0100.pem").is_file()


def test_second_mint_from_the_tree_works_and_index_stays_valid(
    profile: Profile, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca())
    first = mint(tree.root, tmp_path / "work", "a@example.com")
    second = mint(tree.root, tmp_path / "work", "a@example.com")
    for leaf in (first, second):
        ok, output = verify(tree.cert_path, leaf)
        assert ok, output
    lines = index_lines(tree.root)
    assert [(line[0], line[3]) for line in lines] == [("V", "0100"), ("V", "0101")]
    assert (tree.root / "serial").read_text().strip() == "0102"


def test_web_ui_variant_md_sha512_days_365_mints_a_verifying_leaf(
    profile: Profile, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca())
    leaf = mint(tree.root, tmp_path / "work", "b@example.com", "-md", "sha512", "-days", "365")
    ok, output = verify(tree.cert_path, leaf)
    assert ok, output
    text = x509_text(leaf)
    assert "Signature Algorithm: sha512WithRSAEncryption" in text
    start = openssl_date(x509_field(leaf, "-startdate"))
    end = openssl_date(x509_field(leaf, "-enddate"))
    assert int(end[:4]) - int(start[:4]) == 1


def test_minted_leaf_has_email_protection_eku_and_san_email(
    profile: Profile, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca())
    leaf = mint(tree.root, tmp_path / "work", "c@example.com")
    text = x509_text(leaf)
    assert re.search(r"X509v3 Extended Key Usage:\s*\n\s+E-mail Protection\n", text), text
    assert re.search(r"X509v3 Subject Alternative Name:\s*\n\s+email:c@example.com\n", text)
    assert re.search(r"Basic Constraints:\s*\n\s+CA:FALSE", text)
    ok, output = verify(tree.cert_path, leaf, "-purpose", "smimesign")
    assert ok, output


# --- the row ---------------------------------------------------------------------------


def test_created_row_looks_like_the_web_pages(profile: Profile, make_ca: MakeCa) -> None:
    details = make_ca("Row Check CA")
    row = ca_row(profile, details.summary.id)
    tree = tree_of(profile, details)
    assert row["ca_commonname"] == "Row Check CA"
    assert row["validity"] == "1825"
    assert row["encryption"] == "2048"
    assert row["organizationname"] == "Acme, Inc"
    assert row["unitname"] == "IT_Security"
    assert row["stateprovincename"] == "North Carolina"
    assert row["countryname"] == "US"
    assert row["applied"] == 2
    assert row["default2"] == 1
    assert row["ca_directory"] == "RowCheckCA"
    assert row["expires"] == openssl_date(x509_field(tree.cert_path, "-enddate"))
    cm = cm_certificates(profile)
    assert row["ca_djigzo_id"] == cm[0]["cm_id"]


@pytest.mark.parametrize(("years", "validity"), [(1, "365"), (3, "1095"), (5, "1825")])
def test_row_validity_is_the_web_pages_day_count(
    profile: Profile, make_ca: MakeCa, years: int, validity: str
) -> None:
    details = make_ca(years=years)
    assert ca_row(profile, details.summary.id)["validity"] == validity
    tree = tree_of(profile, details)
    start = x509.load_pem_x509_certificate(tree.cert_path.read_bytes())
    days = (start.not_valid_after_utc - start.not_valid_before_utc).days
    assert days == int(validity)  # notBefore is backdated minutes, not days


def test_row_country_is_upper_cased_and_values_trimmed(
    profile: Profile, service: CaService
) -> None:
    details = service.create(
        create_request("  Trim CA  ", country=" gb ", organization=" Org ", state=" Kent ")
    )
    row = ca_row(profile, details.summary.id)
    assert (row["ca_commonname"], row["countryname"]) == ("Trim CA", "GB")
    assert (row["organizationname"], row["stateprovincename"]) == ("Org", "Kent")


# --- CipherMail ----------------------------------------------------------------------


def test_created_ca_is_one_roots_row_with_the_sha512_thumbprint(
    profile: Profile, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    rows = cm_certificates(profile)
    assert len(rows) == 1
    (row,) = rows
    assert row["cm_store_name"] == "roots"
    assert row["cm_thumbprint"] == thumbprint_of(tree.cert_path)
    assert re.fullmatch(r"[0-9A-F]{128}", row["cm_thumbprint"])
    assert bytes(row["cm_certificate"]) == der_of(tree.cert_path)


def test_created_ca_has_one_global_ctl_entry_whitelisted_not_allowing_expired(
    profile: Profile, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    ctl = cm_ctl(profile)
    assert len(ctl) == 1
    assert ctl[0]["cm_name"] == "global"
    assert ctl[0]["cm_thumbprint"] == thumbprint_of(tree.cert_path)
    assert ctl_values(profile, ctl[0]["cm_id"]) == {
        "status": "whitelisted",
        "allowExpired": "false",
    }


def test_two_cas_have_two_separate_trust_entries(profile: Profile, make_ca: MakeCa) -> None:
    a = tree_of(profile, make_ca("Alpha CA"))
    b = tree_of(profile, make_ca("Beta CA"))
    assert {r["cm_thumbprint"] for r in cm_certificates(profile)} == {
        thumbprint_of(a.cert_path),
        thumbprint_of(b.cert_path),
    }
    ctl = cm_ctl(profile)
    assert len(ctl) == 2
    for entry in ctl:
        assert ctl_values(profile, entry["cm_id"])["status"] == "whitelisted"


# --- the default ---------------------------------------------------------------------


def test_first_ca_becomes_default_and_second_does_not(profile: Profile, make_ca: MakeCa) -> None:
    first = make_ca("First CA")
    second = make_ca("Second CA")
    assert default_ids(profile) == [first.summary.id]
    assert ca_row(profile, second.summary.id)["default2"] == 2
    assert first.summary.default
    assert not second.summary.default


def test_make_default_moves_the_default_to_the_new_ca(profile: Profile, make_ca: MakeCa) -> None:
    first = make_ca("First CA")
    second = make_ca("Second CA", make_default=True)
    assert default_ids(profile) == [second.summary.id]
    assert ca_row(profile, first.summary.id)["default2"] == 2


def test_ca_created_while_none_is_default_becomes_default(
    profile: Profile, make_ca: MakeCa
) -> None:
    first = make_ca("First CA")
    execute(profile.hermes_url, "UPDATE ca_settings SET default2 = 2")
    assert default_ids(profile) == []
    second = make_ca("Second CA")
    assert default_ids(profile) == [second.summary.id]
    assert ca_row(profile, first.summary.id)["default2"] == 2


# --- folder names --------------------------------------------------------------------


def test_names_that_sanitise_to_one_folder_get_two_folders_and_keep_their_keys(
    profile: Profile, make_ca: MakeCa, tmp_path: Path
) -> None:
    spaced = make_ca("My CA")
    first_tree = tree_of(profile, spaced)
    key_before = first_tree.key_path.read_bytes()
    cert_before = first_tree.cert_path.read_bytes()
    joined = make_ca("MyCA")
    third = make_ca("M y C A")
    dirs = [d.summary.directory for d in (spaced, joined, third)]
    assert dirs == ["MyCA", "MyCA2", "MyCA3"]
    assert [r["ca_directory"] for r in ca_rows(profile)] == dirs
    assert first_tree.key_path.read_bytes() == key_before
    assert first_tree.cert_path.read_bytes() == cert_before
    second_tree = tree_of(profile, joined)
    assert second_tree.key_path.read_bytes() != key_before
    # Each tree still mints with its own key and config.
    for details in (spaced, joined):
        tree = tree_of(profile, details)
        assert f"dir = {tree.root}\n" in tree.cnf_path.read_text()
        leaf = mint(tree.root, tmp_path / details.summary.directory, "d@example.com")
        ok, output = verify(tree.cert_path, leaf)
        assert ok, output


def test_a_stray_folder_on_disk_is_never_reused(profile: Profile, make_ca: MakeCa) -> None:
    profile.ca_root.mkdir(parents=True, exist_ok=True)
    stray = profile.ca_root / "StrayCA"
    (stray / "root_ca").mkdir(parents=True)
    (stray / "root_ca" / "marker").write_text("not ours")
    details = make_ca("Stray CA")
    assert details.summary.directory == "StrayCA2"
    assert (stray / "root_ca" / "marker").read_text() == "not ours"
    assert sorted(p.name for p in (stray / "root_ca").iterdir()) == ["marker"]


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Test Root CA", "test root ca", "TEST ROOT CA", "Test Root CA   ", "  test ROOT ca"]
)
def test_duplicate_name_is_refused_with_m18_and_nothing_written(
    profile: Profile, service: CaService, make_ca: MakeCa, name: str
) -> None:
    make_ca("Test Root CA")
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.create(create_request(name))
    assert caught.value.code is Code.DUPLICATE_NAME
    assert caught.value.m == 18
    assert_unchanged(before, snapshot(profile))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"common_name": "   "}, Code.CN_EMPTY),
        ({"common_name": "Bad/CA"}, Code.CN_CHARSET),
        ({"common_name": "Ünïcode CA"}, Code.CN_CHARSET),
        ({"common_name": "A" * 65}, Code.CN_TOO_LONG),
        ({"organization": ""}, Code.ORG_EMPTY),
        ({"organization": "Acme & Co"}, Code.ORG_CHARSET),
        ({"unit": "IT-Dept"}, Code.UNIT_CHARSET),
        ({"state": "Baden-Wurttemberg"}, Code.STATE_CHARSET),
        ({"country": "USA"}, Code.COUNTRY_LENGTH),
        ({"country": "U1"}, Code.COUNTRY_CHARSET),
        ({"country": "QQ"}, Code.COUNTRY_UNKNOWN),
        ({"key_size": 1024}, Code.KEY_SIZE_INVALID),
        ({"key_size": "4096; rm -rf /"}, Code.KEY_SIZE_INVALID),
        ({"years": 6}, Code.VALIDITY_INVALID),
        ({"years": 0}, Code.VALIDITY_INVALID),
    ],
)
def test_each_validation_failure_writes_nothing(
    profile: Profile,
    service: CaService,
    make_ca: MakeCa,
    overrides: dict[str, object],
    code: Code,
) -> None:
    make_ca("Existing CA")
    before = snapshot(profile)
    audit_before = profile.audit_log.read_bytes()
    fields = {"common_name": "Fresh CA", **overrides}
    name = str(fields.pop("common_name"))
    with pytest.raises(CaError) as caught:
        service.create(create_request(name, **fields))
    assert caught.value.code is code
    assert_unchanged(before, snapshot(profile))
    assert profile.audit_log.read_bytes() == audit_before
    assert not list((profile.ca_root / ".hermes-ca-tui" / "journal").glob("*.json"))
    assert len(ca_rows(profile)) == 1
    assert len(cm_certificates(profile)) == 1


def test_web_page_order_reports_the_cn_before_later_fields(service: CaService) -> None:
    with pytest.raises(CaError) as caught:
        service.create(create_request("Bad!", organization="", country="ZZZ"))
    assert (caught.value.code, caught.value.m) == (Code.CN_CHARSET, 2)
    with pytest.raises(CaError) as caught:
        service.create(create_request("Good", organization="", country="ZZZ"))
    assert (caught.value.code, caught.value.m) == (Code.ORG_EMPTY, 9)


def test_create_writes_one_audit_record_with_the_fingerprint(
    profile: Profile, make_ca: MakeCa
) -> None:
    details = make_ca("Audited CA")
    records = [r for r in audit_records(profile) if r["operation"] == "create"]
    assert len(records) == 1
    assert records[0]["outcome"] == "ok"
    assert records[0]["ca"] == {"id": details.summary.id, "name": "Audited CA"}
    tree = tree_of(profile, details)
    cert = x509.load_pem_x509_certificate(tree.cert_path.read_bytes())
    sha256 = ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
    assert records[0]["fingerprints"]["sha256"] == sha256
