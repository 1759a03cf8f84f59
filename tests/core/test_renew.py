"""renew: same key and subject, new serial and expiry, issued leaves still chain (OpenSSL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core.errors import CaError, Code, WarningCode
from hermes_ca_tui.core.ops.importing import ImportRequest
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.views import CaDetails
from tests.core.lifecycle import (
    all_ctl_values,
    assert_unchanged,
    audit_records,
    ca_row,
    cm_certificates,
    cm_ctl,
    ctl_values,
    mint,
    openssl_date,
    snapshot,
    thumbprint_of,
    verify,
    x509_field,
)
from tests.support import FixedClock, build_cert, create_request, openssl, rsa_key, write_pair

MakeCa = Callable[..., CaDetails]

AKI_ISSUER_EXT = """\
[aki_issuer]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer:always
"""


def tree_of(profile: Profile, details: CaDetails) -> CaTree:
    return CaTree.at(profile.ca_root, details.summary.directory)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def subject_with_types(path: Path) -> str:
    """The subject as OpenSSL prints it with each attribute's ASN.1 string type."""
    return openssl(
        "x509", "-in", str(path), "-noout", "-subject", "-nameopt", "multiline,show_type"
    ).stdout.decode()


def renew(service: CaService, ref: str | int) -> CaDetails:
    details, _notes = service.renew(service.plan_renew(ref))
    return details


# --- the certificate ------------------------------------------------------------------


def test_renew_keeps_the_key_the_subject_bytes_and_the_ski(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    old_pem = tree.cert_path.read_bytes()
    key_bytes = tree.key_path.read_bytes()
    old = load(tree.cert_path)
    old_typed_subject = subject_with_types(tree.cert_path)
    old_hash = openssl("x509", "-in", str(tree.cert_path), "-noout", "-subject_hash").stdout
    renew(service, "Test Root CA")
    new = load(tree.cert_path)
    assert tree.cert_path.read_bytes() != old_pem
    assert tree.key_path.read_bytes() == key_bytes
    old_key, new_key = old.public_key(), new.public_key()
    assert isinstance(old_key, rsa.RSAPublicKey) and isinstance(new_key, rsa.RSAPublicKey)
    assert new_key.public_numbers() == old_key.public_numbers()
    assert new.subject.public_bytes() == old.subject.public_bytes()
    assert new.issuer.public_bytes() == new.subject.public_bytes()
    assert subject_with_types(tree.cert_path) == old_typed_subject
    assert openssl("x509", "-in", str(tree.cert_path), "-noout", "-subject_hash").stdout == (
        old_hash
    )
    ski = x509.SubjectKeyIdentifier
    assert (
        new.extensions.get_extension_for_class(ski).value
        == old.extensions.get_extension_for_class(ski).value
    )


def test_renew_takes_a_new_serial_and_keeps_the_ca_profile(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    old_serial = x509_field(tree.cert_path, "-serial")
    renew(service, "Test Root CA")
    assert x509_field(tree.cert_path, "-serial") != old_serial
    text = openssl("x509", "-in", str(tree.cert_path), "-noout", "-text").stdout.decode()
    assert "CA:TRUE" in text and "Certificate Sign, CRL Sign" in text
    assert "sha256WithRSAEncryption" in text
    ok, output = verify(tree.cert_path, tree.cert_path)
    assert ok, output


def test_renewed_expiry_is_current_expiry_plus_five_years(
    profile: Profile, clocked_service: CaService, clock: FixedClock
) -> None:
    # Created on 2026-12-03 12:00 for 1825 days: expires 2031-12-02 12:00.
    details = clocked_service.create(create_request("Clocked CA", years=5))
    tree = tree_of(profile, details)
    assert load(tree.cert_path).not_valid_after_utc == datetime(2031, 12, 2, 12, 0, tzinfo=UTC)
    clock.advance(days=30)
    plan = clocked_service.plan_renew("Clocked CA")
    assert not plan.floor_applied
    renewed, _ = clocked_service.renew(plan)
    new = load(tree.cert_path)
    assert new.not_valid_after_utc == datetime(2036, 12, 2, 12, 0, tzinfo=UTC)
    assert new.not_valid_before_utc == datetime(2027, 1, 2, 11, 55, tzinfo=UTC)
    assert ca_row(profile, details.summary.id)["expires"] == "2036-12-02"
    assert renewed.summary.expires is not None
    assert renewed.summary.expires.isoformat() == "2036-12-02"


def test_renewed_expiry_is_never_under_1825_days_from_now(
    profile: Profile, clocked_service: CaService, clock: FixedClock
) -> None:
    # Created for one year (expires 2027-12-03 12:00), renewed two years after it expired.
    details = clocked_service.create(create_request("Lapsed CA", years=1))
    tree = tree_of(profile, details)
    assert load(tree.cert_path).not_valid_after_utc == datetime(2027, 12, 3, 12, 0, tzinfo=UTC)
    clock.advance(days=1096)  # 2029-12-03 12:00; +5 years would only reach 2032-12-03
    plan = clocked_service.plan_renew("Lapsed CA")
    assert plan.floor_applied
    clocked_service.renew(plan)
    assert load(tree.cert_path).not_valid_after_utc == datetime(2034, 12, 2, 12, 0, tzinfo=UTC)
    assert ca_row(profile, details.summary.id)["expires"] == "2034-12-02"


def test_row_expires_equals_the_renewed_certificates_not_after(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    renew(service, details.summary.id)
    tree = tree_of(profile, details)
    assert ca_row(profile, details.summary.id)["expires"] == openssl_date(
        x509_field(tree.cert_path, "-enddate")
    )


# --- the tree --------------------------------------------------------------------------


def test_renew_keeps_the_old_cert_in_history_and_updates_cachain(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    old_pem = tree.cert_path.read_bytes()
    renew(service, "Test Root CA")
    history = sorted(tree.history_dir.iterdir())
    assert [p.read_bytes() for p in history] == [old_pem]
    assert tree.chain_path.read_bytes() == tree.cert_path.read_bytes()
    assert (tree.root / "serial").read_text().strip() == "0100"
    assert (tree.root / "index.txt").read_bytes() == b""


def test_two_renewals_keep_both_previous_certs(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    first = tree.cert_path.read_bytes()
    renew(service, "Test Root CA")
    second = tree.cert_path.read_bytes()
    renew(service, "Test Root CA")
    assert sorted(p.read_bytes() for p in tree.history_dir.iterdir()) == sorted([first, second])
    assert len(cm_certificates(profile)) == 1


def test_renewed_intermediate_chain_keeps_the_issuers_in_cachain(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    # A self-signed CA imported with extra certificates after it keeps them in cachain.pem.
    key = rsa_key(2048, 7)
    cert = build_cert("Chained Root", key)
    other = build_cert("Unrelated Root", rsa_key(2048, 8))
    files = write_pair(tmp_path, cert, key)
    plan = service.inspect_import(
        ImportRequest(name="Chained Root", cert_file=files.cert, key_file=files.key)
    )
    details = service.import_ca(plan)
    tree = tree_of(profile, details)
    assert [c.subject for c in x509.load_pem_x509_certificates(tree.chain_path.read_bytes())] == [
        cert.subject
    ]
    assert other.subject != cert.subject
    renew(service, "Chained Root")
    chain = x509.load_pem_x509_certificates(tree.chain_path.read_bytes())
    assert chain == [load(tree.cert_path)]


# --- issued certificates ------------------------------------------------------------------


def test_leaves_issued_by_openssl_ca_still_verify_after_renewal(
    profile: Profile, service: CaService, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca())
    work = tmp_path / "work"
    leaves = [
        mint(tree.root, work, "a@example.com"),
        mint(tree.root, work, "b@example.com", "-md", "sha512", "-days", "365"),
    ]
    plan = service.plan_renew("Test Root CA")
    assert plan.issued.total == 2
    assert plan.issued.chaining == 2
    assert [w.code for w in plan.warnings] == [WarningCode.CLIENTS_MUST_UPDATE]
    service.renew(plan)
    for leaf in leaves:
        ok, output = verify(tree.cert_path, leaf)
        assert ok, output
    # The tree still mints, and the new leaf verifies against the renewed cert too.
    after = mint(tree.root, work, "c@example.com")
    ok, output = verify(tree.cert_path, after)
    assert ok, output
    assert (tree.root / "serial").read_text().strip() == "0103"


def test_a_sha1_leaf_from_the_old_web_config_still_counts_as_chaining(
    profile: Profile, service: CaService, make_ca: MakeCa, tmp_path: Path
) -> None:
    # The appliance's template had default_md = sha1; such leaves exist in the field.
    tree = tree_of(profile, make_ca())
    leaf = mint(tree.root, tmp_path / "work", "old@example.com", "-md", "sha1")
    plan = service.plan_renew("Test Root CA")
    assert plan.issued.not_chaining == ()
    assert not plan.needs_confirmation
    service.renew(plan)
    ok, output = verify(tree.cert_path, leaf)
    assert ok, output


def test_leaf_whose_aki_names_the_old_serial_needs_confirmation(
    profile: Profile, service: CaService, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca())
    ext = tmp_path / "aki.cnf"
    ext.write_text(AKI_ISSUER_EXT)
    work = tmp_path / "work"
    plain = mint(tree.root, work, "plain@example.com")
    pinned = mint(
        tree.root, work, "pinned@example.com", "-extfile", str(ext), "-extensions", "aki_issuer"
    )
    aki_text = openssl("x509", "-in", str(pinned), "-noout", "-text").stdout.decode()
    assert "DirName:" in aki_text and "serial:" in aki_text
    plan = service.plan_renew("Test Root CA")
    codes = [w.code for w in plan.warnings]
    assert WarningCode.AKI_NAMES_OLD_SERIAL in codes
    assert WarningCode.ISSUED_NOT_CHAINING not in codes
    assert plan.issued.aki_names_old_serial == ("pinned@example.com",)
    assert plan.needs_confirmation

    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.renew(plan)
    assert caught.value.code is Code.WARNINGS_NOT_CONFIRMED
    assert_unchanged(before, snapshot(profile))

    service.renew(plan, accept_warnings=True)
    ok, output = verify(tree.cert_path, plain)
    assert ok, output
    ok, _ = verify(tree.cert_path, pinned)
    assert not ok  # what the warning said: this leaf no longer chains to the new serial
    (old_cert,) = tree.history_dir.iterdir()
    ok, output = verify(old_cert, pinned)
    assert ok, output


# --- the row and CipherMail ---------------------------------------------------------------


def test_renew_trusts_the_new_cert_and_removes_the_old_ones_rows(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    other = tree_of(profile, make_ca("Bystander CA"))
    tree = tree_of(profile, details)
    old_tp = thumbprint_of(tree.cert_path)
    old_cm_id = ca_row(profile, details.summary.id)["ca_djigzo_id"]
    old_ctl_id = next(r["cm_id"] for r in cm_ctl(profile) if r["cm_thumbprint"] == old_tp)
    renew(service, details.summary.id)
    new_tp = thumbprint_of(tree.cert_path)
    assert new_tp != old_tp
    rows = {r["cm_thumbprint"]: r for r in cm_certificates(profile)}
    assert set(rows) == {new_tp, thumbprint_of(other.cert_path)}
    assert rows[new_tp]["cm_store_name"] == "roots"
    row = ca_row(profile, details.summary.id)
    assert row["ca_djigzo_id"] == rows[new_tp]["cm_id"]
    assert row["ca_djigzo_id"] != old_cm_id
    ctl = {r["cm_thumbprint"]: r for r in cm_ctl(profile)}
    assert set(ctl) == {new_tp, thumbprint_of(other.cert_path)}
    assert ctl[new_tp]["cm_name"] == "global"
    assert ctl_values(profile, ctl[new_tp]["cm_id"]) == {
        "status": "whitelisted",
        "allowExpired": "false",
    }
    assert all(v["cm_ctl"] != old_ctl_id for v in all_ctl_values(profile))
    assert len(all_ctl_values(profile)) == 4


def test_renew_leaves_the_other_row_values_alone(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    before = ca_row(profile, details.summary.id)
    renew(service, details.summary.id)
    after = ca_row(profile, details.summary.id)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"expires", "ca_djigzo_id"}
    assert after["validity"] == "1825"  # the web page never updates it either


def test_renew_writes_an_audit_record_with_old_and_new_fingerprints(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    old_serial = x509_field(tree_of(profile, details).cert_path, "-serial")
    renewed = renew(service, details.summary.id)
    (record,) = [r for r in audit_records(profile) if r["operation"] == "renew"]
    assert record["outcome"] == "ok"
    assert record["fingerprints"]["sha256"] == renewed.summary.sha256
    assert record["details"]["old"]["serial"] == old_serial.lstrip("0")


# --- refusals --------------------------------------------------------------------------


def test_imported_intermediate_is_refused_as_not_self_signed(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    root_key, inter_key = rsa_key(2048, 2), rsa_key(2048, 3)
    root = build_cert("Upstream Root", root_key)
    inter = build_cert("Upstream Inter", inter_key, issuer_cn="Upstream Root", issuer_key=root_key)
    files = write_pair(tmp_path, [inter, root], inter_key)
    plan = service.inspect_import(
        ImportRequest(name="Upstream Inter", cert_file=files.cert, key_file=files.key)
    )
    service.import_ca(plan, accept_warnings=True)
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.plan_renew("Upstream Inter")
    assert caught.value.code is Code.RENEW_NOT_SELF_SIGNED
    assert_unchanged(before, snapshot(profile))


@pytest.mark.parametrize("missing", ["cert", "key"])
def test_missing_cert_or_key_is_refused_with_m44(
    profile: Profile, service: CaService, make_ca: MakeCa, missing: str
) -> None:
    tree = tree_of(profile, make_ca())
    (tree.cert_path if missing == "cert" else tree.key_path).unlink()
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.plan_renew("Test Root CA")
    assert (caught.value.code, caught.value.m) == (Code.RENEW_FILES_MISSING, 44)
    assert_unchanged(before, snapshot(profile))


def test_plan_made_before_another_renewal_is_stale(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca())
    early = service.plan_renew("Test Root CA")
    service.renew(service.plan_renew("Test Root CA"))
    current = tree.cert_path.read_bytes()
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.renew(early)
    assert caught.value.code is Code.PLAN_STALE
    assert_unchanged(before, snapshot(profile))
    assert tree.cert_path.read_bytes() == current


def test_plan_renew_writes_nothing(profile: Profile, service: CaService, make_ca: MakeCa) -> None:
    make_ca()
    before = snapshot(profile)
    plan = service.plan_renew("test root ca")
    assert plan.renewed.serial_number != plan.current.serial_number
    assert_unchanged(before, snapshot(profile))


def test_renew_of_an_unknown_ca_is_ca_not_found(service: CaService, make_ca: MakeCa) -> None:
    make_ca()
    with pytest.raises(CaError) as caught:
        service.plan_renew("No Such CA")
    assert caught.value.code is Code.CA_NOT_FOUND


def test_imported_sha1_root_is_renewed_with_sha256(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    key = rsa_key(2048, 9)
    files = write_pair(tmp_path, build_cert("Tmp", key), key)
    sha1_cert = tmp_path / "sha1.pem"
    openssl(
        "req", "-x509", "-new", "-key", str(files.key), "-sha1", "-days", "365",
        "-subj", "/CN=Sha1 Root", "-out", str(sha1_cert),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    plan = service.inspect_import(
        ImportRequest(name="Sha1 Root", cert_file=sha1_cert, key_file=files.key)
    )
    details = service.import_ca(plan, accept_warnings=True)
    tree = tree_of(profile, details)
    renew(service, "Sha1 Root")
    text = openssl("x509", "-in", str(tree.cert_path), "-noout", "-text").stdout.decode()
    assert "Signature Algorithm: sha256WithRSAEncryption" in text
    ok, output = verify(tree.cert_path, tree.cert_path)
    assert ok, output
