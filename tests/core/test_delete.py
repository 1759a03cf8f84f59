"""delete: refused with issued certs; otherwise archives the tree and removes only its trust."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.views import CaDetails
from tests.core.lifecycle import (
    all_ctl_values,
    assert_unchanged,
    audit_records,
    ca_rows,
    cm_certificates,
    cm_ctl,
    default_ids,
    execute,
    mode,
    query,
    snapshot,
    thumbprint_of,
    verify,
)

MakeCa = Callable[..., CaDetails]

UNRELATED_TP = "AB" * 64


def tree_of(profile: Profile, details: CaDetails) -> CaTree:
    return CaTree.at(profile.ca_root, details.summary.directory)


def add_issued(profile: Profile, ca_id: int, count: int) -> None:
    for n in range(count):
        execute(
            profile.hermes_url,
            "INSERT INTO recipient_certificates (ca_id, user_id, smime_certificate_name, serial) "
            "VALUES (?, ?, ?, ?)",
            (ca_id, n + 1, f"user{n}_token_cert.pem", f"{0x100 + n:04X}"),
        )


def add_unrelated_root(profile: Profile, subject: str) -> None:
    """A root CipherMail trusts that is not ours, whose subject contains our CA's name."""
    execute(
        profile.djigzo_url,
        "INSERT INTO cm_certificates (cm_subject, cm_issuer, cm_thumbprint, cm_store_name, "
        "cm_certificate) VALUES (?, ?, ?, 'roots', X'3000')",
        (subject, subject, UNRELATED_TP),
    )
    execute(
        profile.djigzo_url,
        "INSERT INTO cm_ctl (cm_name, cm_thumbprint) VALUES ('global', ?)",
        (UNRELATED_TP,),
    )
    ctl_id = query(
        profile.djigzo_url, "SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?", (UNRELATED_TP,)
    )[0]["cm_id"]
    for name, value in (("status", "whitelisted"), ("allowExpired", "false")):
        execute(
            profile.djigzo_url,
            "INSERT INTO cm_ctl_cm_name_values (cm_ctl, cm_value, cm_name) VALUES (?, ?, ?)",
            (ctl_id, value, name),
        )


# --- refused -------------------------------------------------------------------------


def test_delete_with_issued_certs_is_refused_with_m40_and_the_count(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    add_issued(profile, details.summary.id, 3)
    assert service.plan_delete(details.summary.id).refused
    before = snapshot(profile, skip=("audit.jsonl",))
    with pytest.raises(CaError) as caught:
        service.delete(details.summary.id)
    assert (caught.value.code, caught.value.m) == (Code.HAS_ISSUED_CERTS, 40)
    assert caught.value.params["count"] == 3
    assert_unchanged(before, snapshot(profile, skip=("audit.jsonl",)))
    refusals = [r for r in audit_records(profile) if r["operation"] == "delete"]
    assert [r["outcome"] for r in refusals] == ["refused:HAS_ISSUED_CERTS"]


def test_one_issued_cert_is_enough_to_refuse(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    add_issued(profile, details.summary.id, 1)
    with pytest.raises(CaError) as caught:
        service.delete("test root ca")
    assert caught.value.params["count"] == 1
    assert len(ca_rows(profile)) == 1
    assert tree_of(profile, details).key_path.is_file()


def test_another_cas_issued_certs_do_not_block_a_delete(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    busy = make_ca("Busy CA")
    idle = make_ca("Idle CA")
    add_issued(profile, busy.summary.id, 2)
    service.delete(idle.summary.id)
    assert [r["ca_commonname"] for r in ca_rows(profile)] == ["Busy CA"]


def test_delete_of_an_unknown_ca_is_refused(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    make_ca()
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.delete("No Such CA")
    assert caught.value.code is Code.CA_NOT_FOUND
    assert_unchanged(before, snapshot(profile))


# --- allowed -------------------------------------------------------------------------


def test_delete_removes_the_row_and_archives_the_tree_with_the_key_intact(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    tree = tree_of(profile, details)
    key_bytes = tree.key_path.read_bytes()
    cert_bytes = tree.cert_path.read_bytes()
    result = service.delete(details.summary.id)
    assert ca_rows(profile) == []
    assert not tree.folder.exists()
    assert result.archive is not None
    archived = CaTree(profile.ca_root / ".archive" / result.archive.rsplit("/", 1)[-1])
    assert str(archived.folder) == result.archive
    assert archived.folder.parent == profile.ca_root / ".archive"
    assert archived.folder.name.startswith("TestRootCA")
    assert archived.key_path.read_bytes() == key_bytes
    assert archived.cert_path.read_bytes() == cert_bytes
    assert mode(archived.key_path) == 0o600
    assert mode(archived.folder) == 0o700
    assert mode(profile.ca_root / ".archive") == 0o700
    ok, output = verify(archived.cert_path, archived.cert_path)
    assert ok, output


def test_delete_removes_exactly_this_cas_trust_rows(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    doomed = make_ca("Test Root CA")
    keeper = make_ca("Keeper CA")
    doomed_tp = thumbprint_of(tree_of(profile, doomed).cert_path)
    keeper_tp = thumbprint_of(tree_of(profile, keeper).cert_path)
    add_unrelated_root(profile, "CN=Test Root CA Backup, O=Elsewhere")
    add_unrelated_root_ids = {
        r["cm_id"] for r in cm_ctl(profile) if r["cm_thumbprint"] != doomed_tp
    }
    keeper_rows = [r for r in cm_certificates(profile) if r["cm_thumbprint"] != doomed_tp]
    values_kept = [v for v in all_ctl_values(profile) if v["cm_ctl"] in add_unrelated_root_ids]

    service.delete("Test Root CA")

    assert {r["cm_thumbprint"] for r in cm_certificates(profile)} == {keeper_tp, UNRELATED_TP}
    assert cm_certificates(profile) == keeper_rows
    assert {r["cm_thumbprint"] for r in cm_ctl(profile)} == {keeper_tp, UNRELATED_TP}
    assert all_ctl_values(profile) == values_kept
    assert len(values_kept) == 4


def test_delete_also_removes_the_certificates_email_index_rows(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    cm_id = ca_rows(profile)[0]["ca_djigzo_id"]
    execute(
        profile.djigzo_url,
        "INSERT INTO cm_certificates_email (cm_certificates_id, cm_email) VALUES (?, ?)",
        (cm_id, "ca@example.com"),
    )
    service.delete(details.summary.id)
    assert cm_certificates(profile) == []
    assert query(profile.djigzo_url, "SELECT * FROM cm_certificates_email") == []


def test_deleting_the_default_promotes_the_next_ca_by_name(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    charlie = make_ca("Charlie CA")
    bravo = make_ca("bravo CA")
    make_ca("Delta CA")
    assert default_ids(profile) == [charlie.summary.id]
    plan = service.plan_delete("Charlie CA")
    assert (plan.was_default, plan.promote_id) == (True, bravo.summary.id)
    result = service.delete("Charlie CA")
    assert (result.new_default_id, result.new_default_name) == (bravo.summary.id, "bravo CA")
    assert default_ids(profile) == [bravo.summary.id]
    (record,) = [r for r in audit_records(profile) if r["operation"] == "delete"]
    assert record["details"]["new_default"] == bravo.summary.id


def test_deleting_a_non_default_leaves_the_default_alone(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    first = make_ca("Alpha CA")
    second = make_ca("Bravo CA")
    result = service.delete(second.summary.id)
    assert result.new_default_id is None
    assert default_ids(profile) == [first.summary.id]


def test_deleting_the_last_ca_leaves_empty_stores_and_the_archive(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    make_ca()
    result = service.delete("Test Root CA")
    assert result.new_default_id is None
    assert ca_rows(profile) == []
    assert cm_certificates(profile) == []
    assert cm_ctl(profile) == []
    assert all_ctl_values(profile) == []
    assert len(list((profile.ca_root / ".archive").iterdir())) == 1


def test_a_deleted_name_can_be_created_again_in_a_fresh_folder(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    old = make_ca()
    old_key = tree_of(profile, old).key_path.read_bytes()
    result = service.delete(old.summary.id)
    again = make_ca()
    assert again.summary.directory == "TestRootCA"
    assert tree_of(profile, again).key_path.read_bytes() != old_key
    assert result.archive is not None
    archived = CaTree(profile.ca_root / ".archive" / result.archive.rsplit("/", 1)[-1])
    assert archived.key_path.read_bytes() == old_key


def test_delete_is_audited_with_the_archive_path(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    details = make_ca()
    result = service.delete(details.summary.id)
    (record,) = [r for r in audit_records(profile) if r["operation"] == "delete"]
    assert record["outcome"] == "ok"
    assert record["ca"] == {"id": details.summary.id, "name": "Test Root CA"}
    assert record["details"]["archive"] == result.archive
    assert record["fingerprints"]["sha256"] == details.summary.sha256
