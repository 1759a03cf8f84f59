"""CipherMailBridge in docker mode: CertStore (the stand-in) imports, the bridge does the rest.

The stand-in inserts the row the way CipherMail would, into its default ``certificates``
store; the bridge must find that row by the certificate itself, move it to ``roots`` and
add the CTL entry, idempotently; removal must take exactly this certificate's rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.core.trust.bridge import CipherMailBridge
from tests.engine.certstore_standin import import_certificates
from tests.fake_docker import CertStoreStandIn, FakeDockerEngine, StandInRun
from tests.support import build_cert, rsa_key
from tests.trust_support import WHITELISTED, pem_of, read_stores, rows, thumbprint_of

pytestmark = [pytest.mark.docker, pytest.mark.postgres]


def bridge_of(service: CaService) -> CipherMailBridge:
    assert service.ctx.bridge.mode == "docker"
    return service.ctx.bridge


def cert_with_email(cn: str, address: str, index: int) -> x509.Certificate:
    """A self-signed CA certificate naming an address (CipherMail indexes it)."""
    key = rsa_key(2048, index)
    now = datetime.now(UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme, Inc"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(address)]), critical=False)
        .sign(key, hashes.SHA256())
    )


def test_register_finds_the_imported_row_by_the_certificate_and_moves_it_to_roots(
    docker_service: CaService, docker_profile: Profile, certstore: CertStoreStandIn
) -> None:
    # Rows CipherMail already holds: another CA in roots, a recipient in certificates.
    other_root = build_cert("Unrelated Root", rsa_key(2048, 11))
    recipient = build_cert("someone@example.com", rsa_key(2048, 12), ca=False)
    for cert, store in ((other_root, "roots"), (recipient, "certificates")):
        assert import_certificates(pem_of(cert), docker_profile.djigzo_url, store).exit_code == 0
    before = read_stores(docker_profile)

    at_import: list[list[tuple[int, str, str]]] = []

    def look(run: StandInRun) -> None:  # the moment CertStore is done, before the bridge acts
        at_import.append(
            [
                (int(r[0]), str(r[1]), str(r[2]))
                for r in rows(
                    docker_profile.djigzo_url,
                    "SELECT cm_id, cm_thumbprint, cm_store_name FROM cm_certificates "
                    "ORDER BY cm_id",
                )
            ]
        )

    certstore.after_run = look
    cert = build_cert("Bridge Root CA", rsa_key(2048, 13))
    tp = thumbprint_of(cert)
    cm_id = bridge_of(docker_service).register(cert)

    assert len(certstore.runs) == 1 and certstore.runs[0].stdin == pem_of(cert)
    [imported] = [r for r in at_import[0] if r[1] == tp]
    assert imported == (cm_id, tp, "certificates"), "CertStore imports into its default store"
    after = read_stores(docker_profile)
    [row] = after.by_thumbprint(tp)
    assert (row.cm_id, row.store) == (cm_id, "roots"), "the same row, moved"
    assert row.der == cert.public_bytes(serialization.Encoding.DER)
    assert row.serial == f"{cert.serial_number:X}"
    assert "CN=Bridge Root CA" in row.subject and "CN=Bridge Root CA" in row.issuer
    assert after.ctl[tp] == WHITELISTED
    # Nobody else's row moved or gained a trust-list entry.
    for other in before.cm:
        assert [(r.cm_id, r.store) for r in after.by_thumbprint(other.thumbprint)] == [
            (other.cm_id, other.store)
        ]
    assert set(after.ctl) == {tp}


def test_a_second_registration_adds_nothing(
    docker_service: CaService, docker_profile: Profile, certstore: CertStoreStandIn
) -> None:
    bridge = bridge_of(docker_service)
    cert = build_cert("Twice Root CA", rsa_key(2048, 14))
    first = bridge.register(cert)
    snapshot = read_stores(docker_profile)
    values = rows(docker_profile.djigzo_url, "SELECT * FROM cm_ctl_cm_name_values ORDER BY 1, 3")

    assert bridge.register(cert) == first
    assert bridge.ensure_trusted(cert) == first

    after = read_stores(docker_profile)
    assert len(certstore.runs) == 1, "CertStore is not run for a certificate CipherMail holds"
    assert [(r.cm_id, r.store) for r in after.cm] == [(r.cm_id, r.store) for r in snapshot.cm]
    assert after.ctl_ids == snapshot.ctl_ids
    assert rows(docker_profile.djigzo_url, "SELECT * FROM cm_ctl_cm_name_values ORDER BY 1, 3") == (
        values
    )
    assert len(values) == 2


def test_a_certificate_held_in_another_store_is_moved_without_importing_again(
    docker_service: CaService, docker_profile: Profile, certstore: CertStoreStandIn
) -> None:
    cert = build_cert("Known Root CA", rsa_key(2048, 15))
    assert import_certificates(pem_of(cert), docker_profile.djigzo_url).exit_code == 0
    [held] = read_stores(docker_profile).by_thumbprint(thumbprint_of(cert))

    assert bridge_of(docker_service).register(cert) == held.cm_id
    assert certstore.runs == []
    assert read_stores(docker_profile).trusted(thumbprint_of(cert))


def test_unregister_removes_exactly_this_certificate_s_rows(
    docker_service: CaService, docker_profile: Profile
) -> None:
    bridge = bridge_of(docker_service)
    mine = cert_with_email("Mine Root CA", "pki@example.com", 16)
    theirs = cert_with_email("Theirs Root CA", "ops@example.com", 17)
    # Same subject as mine, another key: a subject LIKE sweep would take it too.
    namesake = cert_with_email("Mine Root CA", "pki@example.com", 18)
    for cert in (mine, theirs, namesake):
        bridge.register(cert)
    before = read_stores(docker_profile)
    mine_ids = {r.cm_id for r in before.by_thumbprint(thumbprint_of(mine))}
    assert {cm for cm, _ in before.email} >= mine_ids, "CipherMail indexed the address"

    bridge.unregister(mine)

    after = read_stores(docker_profile)
    assert after.absent(thumbprint_of(mine))
    assert [e for e in after.email if e[0] in mine_ids] == []
    for cert in (theirs, namesake):
        tp = thumbprint_of(cert)
        assert after.by_thumbprint(tp) == before.by_thumbprint(tp)
        assert after.ctl[tp] == before.ctl[tp] == WHITELISTED
        assert after.ctl_ids[tp] == before.ctl_ids[tp]
    assert [e for e in after.email if e[0] not in mine_ids] == [
        e for e in before.email if e[0] not in mine_ids
    ]
    ctl_values = rows(
        docker_profile.djigzo_url, "SELECT DISTINCT cm_ctl FROM cm_ctl_cm_name_values"
    )
    assert {int(r[0]) for r in ctl_values} == set(after.ctl_ids.values()), "no orphaned values"


def test_an_import_that_inserts_nothing_is_trust_failed(
    docker_service: CaService, docker_profile: Profile, certstore: CertStoreStandIn
) -> None:
    certstore.settings.mode = "silent"
    with pytest.raises(CaError) as info:
        bridge_of(docker_service).register(build_cert("Silent Root CA", rsa_key(2048, 19)))
    assert info.value.code is Code.TRUST_FAILED
    assert "did not appear" in info.value.params["reason"]
    assert len(certstore.runs) == 1 and certstore.runs[0].outcome.exit_code == 0
    stores = read_stores(docker_profile)
    assert (stores.cm, stores.ctl) == ([], {})


def test_an_import_of_another_certificate_is_trust_failed_and_leaves_that_row_alone(
    docker_service: CaService, docker_profile: Profile, certstore: CertStoreStandIn
) -> None:
    other = build_cert("Someone Else CA", rsa_key(2048, 20))
    certstore.settings.mode = "other"
    certstore.settings.other_pem = pem_of(other).decode()
    cert = build_cert("Wanted Root CA", rsa_key(2048, 21))
    with pytest.raises(CaError) as info:
        bridge_of(docker_service).register(cert)
    assert info.value.code is Code.TRUST_FAILED
    stores = read_stores(docker_profile)
    assert stores.absent(thumbprint_of(cert))
    assert stores.stores_of(thumbprint_of(other)) == ["certificates"], "not promoted to roots"
    assert stores.ctl == {}


def test_the_engine_log_shows_one_exec_per_import_and_nothing_for_removal(
    docker_service: CaService, fake_engine: FakeDockerEngine
) -> None:
    bridge = bridge_of(docker_service)
    cert = build_cert("Logged Root CA", rsa_key(2048, 22))
    bridge.register(cert)
    bridge.unregister(cert)
    bridge.unregister(cert)  # nothing left: still fine
    assert [r.argv[-1] for r in fake_engine.exec_records()] == ["--import-certificates"]
