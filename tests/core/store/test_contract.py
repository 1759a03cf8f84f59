"""One contract, two engines: the repositories and the whole CA lifecycle on SQLite and PostgreSQL.

Every test here takes the ``backend`` fixture, parametrised ``sqlite`` (the embedded
default) and ``postgres`` (an appliance-style profile on the throwaway cluster, tables
made by ``init_schema``, CipherMail bridge in ``sql`` mode). The same test body runs on
both; results are judged through :mod:`tests.core.store.raw` (plain ``sqlite3`` /
``psycopg``), never through the repository under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.certinfo import thumbprint
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.findings import FindingCode
from hermes_ca_tui.core.ops.export import ExportFormat, ExportRequest, ExportWhat
from hermes_ca_tui.core.ops.importing import ImportRequest
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, embedded_profile, open_database, open_service
from hermes_ca_tui.core.store.database import Database
from hermes_ca_tui.core.store.djigzo import DjigzoRepository
from hermes_ca_tui.core.store.hermes import HermesRepository
from hermes_ca_tui.core.store.records import DEFAULT_NO, DEFAULT_YES, NewCaRow, NewCmCertificate
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.trust.state import TrustState
from hermes_ca_tui.core.views import CaDetails
from tests.core.store import raw
from tests.core.stores import CERT, KEY, assert_audit_chain, assert_consistent
from tests.support import build_cert, create_request, rsa_key, write_pair

# --- the backend ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Profile:
    """A profile on each engine: the embedded default, or PostgreSQL (tables created)."""
    if request.param == "sqlite":
        return embedded_profile(tmp_path / "data")
    profile: Profile = request.getfixturevalue("pg_profile")
    return profile


@dataclass
class Repos:
    """The two repositories on the backend's databases, with their statement counters."""

    hermes: HermesRepository
    djigzo: DjigzoRepository
    profile: Profile

    @property
    def hdb(self) -> Database:
        return self.hermes.database

    @property
    def ddb(self) -> Database:
        return self.djigzo.database


@pytest.fixture
def repos(backend: Profile) -> Iterator[Repos]:
    """Repositories opened the way :func:`open_service` opens them."""
    if backend.embedded:
        from hermes_ca_tui.core.session import prepare_embedded

        prepare_embedded(backend)
    hermes = HermesRepository(
        open_database(backend.hermes_url, "hermes", create_schema=backend.embedded)
    )
    djigzo = DjigzoRepository(
        open_database(backend.djigzo_url, "djigzo", create_schema=backend.embedded)
    )
    yield Repos(hermes, djigzo, backend)
    hermes.database.close()
    djigzo.database.close()


@pytest.fixture
def service(backend: Profile) -> Iterator[CaService]:
    svc = open_service(backend)
    yield svc
    svc.close()


def new_row(name: str, directory: str | None = None, **overrides: Any) -> NewCaRow:
    values: dict[str, Any] = {
        "common_name": name,
        "directory": directory or "".join(ch for ch in name if ch.isalnum()),
        "validity": "1825",
        "expires": date(2031, 12, 2),
        "encryption": "4096",
        "organization": "Acme, Inc",
        "unit": "IT_Security",
        "state": "North Carolina",
        "country": "US",
        "applied": 2,
        "default": False,
        "djigzo_id": None,
        "djigzo_subject": f"CN={name}",
    }
    values.update(overrides)
    return NewCaRow(**values)


def insert(repos: Repos, *rows: NewCaRow) -> list[int]:
    with repos.hdb.transaction() as tx:
        return [repos.hermes.insert_ca(tx, row) for row in rows]


def cm_row(cert: x509.Certificate, store: str = "roots") -> NewCmCertificate:
    return NewCmCertificate(
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        issuer=cert.issuer.rfc4514_string(),
        issuer_friendly=cert.issuer.rfc4514_string(),
        serial=f"{cert.serial_number:X}",
        subject_key_identifier=None,
        subject=cert.subject.rfc4514_string(),
        subject_friendly=cert.subject.rfc4514_string(),
        certificate=cert.public_bytes(serialization.Encoding.DER),
        thumbprint=thumbprint(cert),
        creation_date=datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC),
        store_name=store,
    )


def some_cert(cn: str, index: int) -> x509.Certificate:
    return build_cert(cn, rsa_key(2048, index))


# --- HermesRepository -------------------------------------------------------------------


def test_list_gives_every_ca_with_its_issued_count_sorted_by_name_in_one_statement(
    repos: Repos,
) -> None:
    beta, alpha, gamma = insert(repos, new_row("beta CA"), new_row("Alpha CA"), new_row("Gamma"))
    with repos.hdb.transaction() as tx:
        for ca_id in (beta, beta, alpha):
            repos.hermes.insert_recipient_certificate(tx, ca_id, {"serial": "01"})

    with repos.hdb.transaction(write=False) as tx:
        before = repos.hdb.statements
        listed = repos.hermes.list_cas(tx)
        used = repos.hdb.statements - before

    assert used == 1
    assert [(r.id, r.common_name, r.issued) for r in listed] == [
        (alpha, "Alpha CA", 1),
        (beta, "beta CA", 2),
        (gamma, "Gamma", 0),
    ]


def test_a_row_reads_back_exactly_as_written_with_expires_as_a_date(repos: Repos) -> None:
    (ca_id,) = insert(
        repos,
        new_row(
            "Round Trip CA",
            "RoundTripCA",
            validity="0",
            encryption="imported",
            expires=date(2029, 2, 28),
            applied=1,
            djigzo_id=4242,
            djigzo_subject="CN=Round Trip CA, O=Imported",
        ),
    )

    with repos.hdb.transaction(write=False) as tx:
        record = repos.hermes.get_ca(tx, ca_id)

    assert record is not None
    assert isinstance(record.expires, date)
    assert record.expires == date(2029, 2, 28)
    assert (record.validity, record.encryption, record.imported) == ("0", "imported", True)
    assert (record.organization, record.unit, record.state, record.country) == (
        "Acme, Inc",
        "IT_Security",
        "North Carolina",
        "US",
    )
    assert (record.applied, record.default, record.djigzo_id) == (1, False, 4242)
    assert record.djigzo_subject == "CN=Round Trip CA, O=Imported"
    # What the web UI reads: default2 2 (not default) and an ISO date in expires.
    stored = raw.query(
        repos.profile.hermes_url, "SELECT default2, expires FROM ca_settings WHERE id = ?", (ca_id,)
    )
    assert stored[0][0] == DEFAULT_NO
    assert str(stored[0][1]) == "2029-02-28"


def test_insert_returns_a_new_id_for_each_row(repos: Repos) -> None:
    first, second = insert(repos, new_row("First"), new_row("Second"))

    assert second != first
    ids = [r[0] for r in raw.query(repos.profile.hermes_url, "SELECT id FROM ca_settings")]
    assert sorted(ids) == sorted([first, second])


def test_get_and_find_by_name_ignore_case_and_trailing_spaces(repos: Repos) -> None:
    plain, spaced = insert(repos, new_row("Acme Root"), new_row("Trail CA  ", "TrailCA"))

    with repos.hdb.transaction(write=False) as tx:
        by_upper = repos.hermes.find_by_name(tx, "ACME ROOT   ")
        by_trimmed = repos.hermes.find_by_name(tx, "trail ca")
        by_prefix = repos.hermes.find_by_name(tx, "Acme")
        by_leading = repos.hermes.find_by_name(tx, " Acme Root")
        got = repos.hermes.get_ca(tx, plain)
        missing = repos.hermes.get_ca(tx, max(plain, spaced) + 1000)

    assert [r.id for r in by_upper] == [plain]
    assert [r.id for r in by_trimmed] == [spaced]
    assert by_prefix == []
    assert by_leading == []
    assert got is not None and got.common_name == "Acme Root"
    assert missing is None


def test_make_default_leaves_exactly_one_default_whichever_was_before(repos: Repos) -> None:
    a, b, c = insert(repos, new_row("A1"), new_row("B1"), new_row("C1"))

    for target in (b, c, c, a):
        with repos.hdb.transaction() as tx:
            repos.hermes.make_default(tx, target)
        with repos.hdb.transaction(write=False) as tx:
            assert repos.hermes.default_ids(tx) == [target]
        flags = dict(raw.query(repos.profile.hermes_url, "SELECT id, default2 FROM ca_settings"))
        assert flags == {i: (DEFAULT_YES if i == target else DEFAULT_NO) for i in (a, b, c)}


def test_delete_removes_only_that_row_and_says_how_many_went(repos: Repos) -> None:
    keep, drop = insert(repos, new_row("Keep"), new_row("Drop"))

    with repos.hdb.transaction() as tx:
        first = repos.hermes.delete_ca(tx, drop)
    with repos.hdb.transaction() as tx:
        again = repos.hermes.delete_ca(tx, drop)

    assert (first, again) == (1, 0)
    ids = [r[0] for r in raw.query(repos.profile.hermes_url, "SELECT id FROM ca_settings")]
    assert ids == [keep]


def test_directories_are_lower_cased_and_count_issued_counts_only_that_ca(repos: Repos) -> None:
    a, b = insert(repos, new_row("One", "MixedCase"), new_row("Two", "other2"))
    with repos.hdb.transaction() as tx:
        for _ in range(3):
            repos.hermes.insert_recipient_certificate(tx, a, {"smime_certificate_name": "x.pem"})

    with repos.hdb.transaction(write=False) as tx:
        folders = repos.hermes.directories(tx)
        counts = (repos.hermes.count_issued(tx, a), repos.hermes.count_issued(tx, b))
        names = repos.hermes.recipient_certificate_names(tx, a)

    assert folders == {"mixedcase", "other2"}
    assert counts == (3, 0)
    assert names == ["x.pem"] * 3


def test_an_error_in_the_block_rolls_back_and_reaches_the_caller_unchanged(
    repos: Repos,
) -> None:
    with pytest.raises(RuntimeError, match=r"^abort$"), repos.hdb.transaction() as tx:
        repos.hermes.insert_ca(tx, new_row("Ghost"))
        raise RuntimeError("abort")

    assert raw.query(repos.profile.hermes_url, "SELECT id FROM ca_settings") == []


def test_a_driver_error_rolls_back_and_becomes_an_error_naming_the_database(
    repos: Repos,
) -> None:
    with pytest.raises(CaError) as info, repos.hdb.transaction() as tx:
        repos.hermes.insert_ca(tx, new_row("Ghost"))
        tx.execute("INSERT INTO ca_settings (ca_commonname, ca_directory) VALUES (NULL, 'x')")

    assert info.value.code is Code.INTERNAL
    assert info.value.params["reason"].startswith("hermes database: ")
    assert "ca_commonname" in info.value.params["reason"]
    assert raw.query(repos.profile.hermes_url, "SELECT id FROM ca_settings") == []


# --- DjigzoRepository -------------------------------------------------------------------


def test_a_certificate_row_is_found_by_thumbprint_with_its_der_and_timestamps_intact(
    repos: Repos,
) -> None:
    cert = some_cert("Stored Root", 11)
    row = cm_row(cert)
    tp = thumbprint(cert)

    with repos.ddb.transaction() as tx:
        cm_id = repos.djigzo.insert_certificate(tx, row)
    with repos.ddb.transaction(write=False) as tx:
        found = repos.djigzo.certificates(tx, tp)
        roots = repos.djigzo.root_certificates(tx)

    assert [(c.cm_id, c.thumbprint, c.store_name) for c in found] == [(cm_id, tp, "roots")]
    assert found[0].subject == "CN=Stored Root"
    assert roots == [(cm_id, tp, row.certificate, "CN=Stored Root")]
    assert isinstance(roots[0][2], bytes)
    stored = raw.query(
        repos.profile.djigzo_url,
        "SELECT cm_certificate, cm_not_before, cm_not_after, cm_creation_date "
        "FROM cm_certificates WHERE cm_id = ?",
        (cm_id,),
    )[0]
    assert bytes(stored[0]) == cert.public_bytes(serialization.Encoding.DER)
    stamps = [str(v)[:19] for v in stored[1:]]
    assert stamps == [
        cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M:%S"),
        cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S"),
        "2026-12-03 12:00:01",
    ]


def test_move_to_store_moves_only_that_row(repos: Repos) -> None:
    one, two = some_cert("Store One", 12), some_cert("Store Two", 13)
    with repos.ddb.transaction() as tx:
        first = repos.djigzo.insert_certificate(tx, cm_row(one, "certificates"))
        repos.djigzo.insert_certificate(tx, cm_row(two, "certificates"))
    with repos.ddb.transaction() as tx:
        repos.djigzo.move_to_store(tx, first, "roots")

    stores = dict(
        raw.query(repos.profile.djigzo_url, "SELECT cm_subject, cm_store_name FROM cm_certificates")
    )
    assert stores == {"CN=Store One": "roots", "CN=Store Two": "certificates"}


def ctl_state(profile: Profile, tp: str) -> list[tuple[Any, ...]]:
    return raw.query(
        profile.djigzo_url,
        "SELECT t.cm_id, t.cm_name, v.cm_name, v.cm_value FROM cm_ctl t "
        "JOIN cm_ctl_cm_name_values v ON v.cm_ctl = t.cm_id WHERE t.cm_thumbprint = ? "
        "ORDER BY v.cm_name",
        (tp,),
    )


def test_ensure_ctl_is_idempotent_whitelisted_and_never_allows_expired(repos: Repos) -> None:
    tp = thumbprint(some_cert("Listed Root", 14))

    with repos.ddb.transaction() as tx:
        first = repos.djigzo.ensure_ctl(tx, tp)
    with repos.ddb.transaction() as tx:
        second = repos.djigzo.ensure_ctl(tx, tp)

    assert first == second
    assert ctl_state(repos.profile, tp) == [
        (first, "global", "allowExpired", "false"),
        (first, "global", "status", "whitelisted"),
    ]
    # A hand-changed entry is corrected in place, not duplicated.
    raw.execute(
        repos.profile.djigzo_url,
        "UPDATE cm_ctl_cm_name_values SET cm_value = 'blacklisted' WHERE cm_name = 'status'",
    )
    with repos.ddb.transaction() as tx:
        third = repos.djigzo.ensure_ctl(tx, tp)
        listed = repos.djigzo.ctl_thumbprints(tx)
    assert third == first
    assert ctl_state(repos.profile, tp)[1] == (first, "global", "status", "whitelisted")
    assert listed == {tp}


def test_remove_certificate_removes_exactly_that_certificates_rows_and_email_rows(
    repos: Repos,
) -> None:
    gone, kept = some_cert("Gone Root", 15), some_cert("Kept Root", 16)
    with repos.ddb.transaction() as tx:
        gone_ids = [
            repos.djigzo.insert_certificate(tx, cm_row(gone, "roots")),
            repos.djigzo.insert_certificate(tx, cm_row(gone, "certificates")),
        ]
        kept_id = repos.djigzo.insert_certificate(tx, cm_row(kept, "roots"))
        for tp in (thumbprint(gone), thumbprint(kept)):
            repos.djigzo.ensure_ctl(tx, tp)
    url = repos.profile.djigzo_url
    for cm_id, mail in ((gone_ids[0], "a@x.test"), (gone_ids[1], "b@x.test"), (kept_id, "c@x")):
        raw.execute(
            url,
            "INSERT INTO cm_certificates_email (cm_certificates_id, cm_email) VALUES (?, ?)",
            (cm_id, mail),
        )

    with repos.ddb.transaction() as tx:
        removed = repos.djigzo.remove_certificate(tx, thumbprint(gone))
        unlisted = repos.djigzo.remove_ctl(tx, thumbprint(gone))

    assert (removed, unlisted) == (2, 1)
    assert raw.query(url, "SELECT cm_id FROM cm_certificates") == [(kept_id,)]
    assert raw.query(url, "SELECT cm_certificates_id, cm_email FROM cm_certificates_email") == [
        (kept_id, "c@x")
    ]
    assert [r[0] for r in raw.query(url, "SELECT cm_thumbprint FROM cm_ctl")] == [thumbprint(kept)]
    assert len(raw.query(url, "SELECT cm_ctl FROM cm_ctl_cm_name_values")) == 2


@pytest.mark.parametrize("count", [3, 300])
def test_trust_entries_take_two_statements_whatever_the_number_of_thumbprints(
    repos: Repos, count: int
) -> None:
    trusted, hidden = some_cert("Trusted Root", 17), some_cert("Hidden Root", 18)
    with repos.ddb.transaction() as tx:
        trusted_id = repos.djigzo.insert_certificate(tx, cm_row(trusted, "roots"))
        hidden_id = repos.djigzo.insert_certificate(tx, cm_row(hidden, "certificates"))
        ctl_id = repos.djigzo.ensure_ctl(tx, thumbprint(trusted))
    unknown = [uuid.uuid4().hex.upper() * 4 for _ in range(count - 2)]
    wanted = [thumbprint(trusted), thumbprint(hidden), *unknown]

    with repos.ddb.transaction(write=False) as tx:
        before = repos.ddb.statements
        entries = repos.djigzo.trust_entries(tx, wanted)
        used = repos.ddb.statements - before

    assert used == 2
    assert len(entries) == count
    good = entries[thumbprint(trusted)]
    assert (good.cm_ids, good.stores, good.ctl_id) == ((trusted_id,), ("roots",), ctl_id)
    assert (good.status, good.allow_expired) == ("whitelisted", "false")
    bad = entries[thumbprint(hidden)]
    assert (bad.cm_ids, bad.stores, bad.ctl_id) == ((hidden_id,), ("certificates",), None)
    assert all(entries[tp].cm_ids == () and entries[tp].ctl_id is None for tp in unknown)


def test_trust_entries_of_no_thumbprints_is_empty(repos: Repos) -> None:
    with repos.ddb.transaction(write=False) as tx:
        assert repos.djigzo.trust_entries(tx, []) == {}


# --- the service, end to end ------------------------------------------------------------


def state_of(profile: Profile) -> Any:
    state = raw.snapshot(profile)
    assert state.journal == [] and state.staging == [] and state.temp_files == []
    return state


def tp_of(profile: Profile, details: CaDetails) -> str:
    return thumbprint(CaTree.at(profile.ca_root, details.summary.directory).read_cert())


def test_the_whole_lifecycle_keeps_the_three_stores_in_step(
    backend: Profile, service: CaService, tmp_path: Path
) -> None:
    # create: the first CA becomes the default, in all three stores.
    alpha = service.create(create_request("Alpha Root"))
    assert alpha.summary.default
    assert alpha.summary.trust is TrustState.TRUSTED
    assert alpha.facts is not None and alpha.record is not None
    assert isinstance(alpha.record.expires, date)
    assert alpha.record.expires == alpha.facts.not_after.date()
    assert_consistent(state_of(backend))

    # import: a self-signed CA from PEM files, written as the web page would.
    cert = build_cert("Imported Root", rsa_key(2048, 21))
    files = write_pair(tmp_path / "in", cert, rsa_key(2048, 21))
    plan = service.inspect_import(ImportRequest("Imported Root", files.cert, files.key))
    imported = service.import_ca(plan, accept_warnings=True)
    assert (imported.summary.imported, imported.summary.default) == (True, False)
    row = raw.query(
        backend.hermes_url,
        "SELECT validity, encryption, expires, default2 FROM ca_settings WHERE id = ?",
        (imported.summary.id,),
    )[0]
    assert (row[0], row[1], str(row[2]), row[3]) == (
        "0",
        "imported",
        cert.not_valid_after_utc.date().isoformat(),
        DEFAULT_NO,
    )
    assert_consistent(state_of(backend))

    # set-default: exactly one default, the imported one.
    moved = service.set_default("imported root")
    assert moved.summary.default
    assert state_of(backend).defaults() == ["Imported Root"]

    # renew: same key, later expiry, the new certificate trusted and the old one not.
    old_tp = tp_of(backend, alpha)
    renew_plan = service.plan_renew(alpha.summary.id)
    renewed, _notes = service.renew(renew_plan, accept_warnings=True)
    new_tp = tp_of(backend, renewed)
    assert renewed.summary.expires is not None and alpha.summary.expires is not None
    assert renewed.summary.expires > alpha.summary.expires
    assert renewed.record.expires == renewed.summary.expires
    state = state_of(backend)
    assert_consistent(state)
    assert state.trusted(new_tp)
    assert state.absent_from_trust(old_tp)

    # export: downloads allowed in security.conf; certificate and key as files.
    backend.security_conf.parent.mkdir(parents=True, exist_ok=True)
    backend.security_conf.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    (tmp_path / "out").mkdir()
    out_cert = service.export(
        ExportRequest(
            alpha.summary.id, ExportWhat.CERT, tmp_path / "out" / "alpha.der", ExportFormat.DER
        )
    )
    out_key = service.export(
        ExportRequest("Alpha Root", ExportWhat.KEY, tmp_path / "out" / "alpha.key")
    )
    tree = state.trees[renewed.summary.directory]
    assert out_cert.path.read_bytes() == x509.load_pem_x509_certificate(tree[CERT]).public_bytes(
        serialization.Encoding.DER
    )
    assert out_key.path.read_bytes() == tree[KEY]

    # doctor: clean; a planted trust drift (CTL entry removed by hand) found and repaired.
    assert service.doctor().ok
    ctl_id = raw.scalar(
        backend.djigzo_url, "SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?", (new_tp,)
    )
    raw.execute(backend.djigzo_url, "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl = ?", (ctl_id,))
    raw.execute(backend.djigzo_url, "DELETE FROM cm_ctl WHERE cm_id = ?", (ctl_id,))
    report = service.doctor()
    assert [(f.code, f.ca) for f in report.findings] == [(FindingCode.CTL_MISSING, "Alpha Root")]
    fixed, after = service.repair()
    assert [f.code for f in fixed] == [FindingCode.CTL_MISSING]
    assert after.ok
    assert state_of(backend).trusted(new_tp)

    # delete: the default goes, the other CA is promoted, trust and row gone, tree archived.
    imported_tp = tp_of(backend, imported)
    result = service.delete(imported.summary.id)
    assert (result.new_default_id, result.new_default_name) == (alpha.summary.id, "Alpha Root")
    state = state_of(backend)
    assert_consistent(state)
    assert list(state.rows) == ["alpha root"]
    assert state.absent_from_trust(imported_tp)
    assert result.archive is not None and Path(result.archive, "root_ca", "private").is_dir()
    with pytest.raises(CaError) as refused:
        service.show(imported.summary.id)
    assert refused.value.code is Code.CA_NOT_FOUND

    # audit: one chained record per change, intact.
    verified = service.audit_verify()
    assert verified.ok
    records = service.ctx.audit.records()
    assert_audit_chain(records)
    assert [r["operation"] for r in records if r["outcome"] == "ok"] == [
        "create",
        "import",
        "set-default",
        "renew",
        "export-cert",
        "export-key",
        "repair",
        "delete",
    ]
    assert service.doctor().ok


def test_a_second_session_sees_what_the_first_committed(backend: Profile) -> None:
    first = open_service(backend)
    try:
        made = first.create(create_request("Shared Root"))
    finally:
        first.close()
    second = open_service(backend)
    try:
        listed = second.list_cas()
    finally:
        second.close()

    assert [(c.id, c.name, c.default, c.trust) for c in listed] == [
        (made.summary.id, "Shared Root", True, TrustState.TRUSTED)
    ]
    assert isinstance(listed[0].expires, date)


def test_a_duplicate_name_is_refused_on_every_engine_and_leaves_nothing(
    backend: Profile, service: CaService
) -> None:
    service.create(create_request("Unique Root"))
    before = (raw.dump(backend.hermes_url), raw.dump(backend.djigzo_url))

    with pytest.raises(CaError) as refused:
        service.create(create_request("UNIQUE ROOT "))

    assert refused.value.code is Code.DUPLICATE_NAME
    assert (raw.dump(backend.hermes_url), raw.dump(backend.djigzo_url)) == before
    assert sorted(p.name for p in backend.ca_root.iterdir() if not p.name.startswith(".")) == [
        "UniqueRoot"
    ]


# --- doctor: trust drift, found and repaired through the sql bridge ---------------------


def _drop_ctl(profile: Profile, tp: str) -> None:
    ctl_id = raw.scalar(
        profile.djigzo_url, "SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?", (tp,)
    )
    raw.execute(profile.djigzo_url, "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl = ?", (ctl_id,))
    raw.execute(profile.djigzo_url, "DELETE FROM cm_ctl WHERE cm_id = ?", (ctl_id,))


def _drop_root_row(profile: Profile, tp: str) -> None:
    raw.execute(
        profile.djigzo_url,
        "DELETE FROM cm_certificates_email WHERE cm_certificates_id IN "
        "(SELECT cm_id FROM cm_certificates WHERE cm_thumbprint = ?)",
        (tp,),
    )
    raw.execute(profile.djigzo_url, "DELETE FROM cm_certificates WHERE cm_thumbprint = ?", (tp,))


def _set_ctl_value(profile: Profile, tp: str, name: str, value: str) -> None:
    raw.execute(
        profile.djigzo_url,
        "UPDATE cm_ctl_cm_name_values SET cm_value = ? WHERE cm_name = ? AND cm_ctl IN "
        "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?)",
        (value, name, tp),
    )


def _drop_both(profile: Profile, tp: str) -> None:
    _drop_ctl(profile, tp)
    _drop_root_row(profile, tp)


DRIFTS: dict[str, tuple[FindingCode, Callable[[Profile, str], None]]] = {
    "root entry missing": (FindingCode.NOT_TRUSTED, _drop_root_row),
    "root and CTL missing": (FindingCode.NOT_TRUSTED, _drop_both),
    "CTL missing": (FindingCode.CTL_MISSING, _drop_ctl),
    "not whitelisted": (
        FindingCode.NOT_WHITELISTED,
        lambda p, tp: _set_ctl_value(p, tp, "status", "blacklisted"),
    ),
    "expired allowed": (
        FindingCode.NOT_WHITELISTED,
        lambda p, tp: _set_ctl_value(p, tp, "allowExpired", "true"),
    ),
    "not in roots": (
        FindingCode.NOT_IN_ROOTS,
        lambda p, tp: raw.execute(
            p.djigzo_url,
            "UPDATE cm_certificates SET cm_store_name = 'certificates' WHERE cm_thumbprint = ?",
            (tp,),
        ),
    ),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_doctor_reports_trust_drift_of_a_live_ca_and_repair_trusts_it_again(
    backend: Profile, service: CaService, drift: str
) -> None:
    alpha = service.create(create_request("Alpha Root"))
    service.create(create_request("Beta Root"))
    tp = tp_of(backend, alpha)
    code, plant = DRIFTS[drift]
    plant(backend, tp)

    report = service.doctor()
    assert [(f.code, f.ca, f.repairable) for f in report.findings] == [(code, "Alpha Root", True)]
    assert service.show(alpha.summary.id).summary.trust is not TrustState.TRUSTED

    fixed, after = service.repair()

    assert [f.code for f in fixed] == [code]
    assert after.ok
    state = state_of(backend)
    assert_consistent(state)
    assert state.trusted(tp)
    assert len(state.cm[tp]) == 1  # repaired in place, never a second row


def test_doctor_reports_the_orphaned_trust_entry_of_a_deleted_ca_and_removes_only_it(
    backend: Profile, service: CaService
) -> None:
    service.create(create_request("Alpha Root"))
    gone = service.create(create_request("Gone Root"))
    gone_tp = tp_of(backend, gone)
    leftover = raw.query(
        backend.djigzo_url,
        "SELECT cm_not_before, cm_not_after, cm_issuer, cm_serial, cm_subject, cm_certificate, "
        "cm_thumbprint, cm_creation_date, cm_store_name FROM cm_certificates "
        "WHERE cm_thumbprint = ?",
        (gone_tp,),
    )
    service.delete(gone.summary.id)
    # A broken script puts the deleted CA's trust back: certificate row and CTL entry.
    raw.execute(
        backend.djigzo_url,
        "INSERT INTO cm_certificates (cm_not_before, cm_not_after, cm_issuer, cm_serial, "
        "cm_subject, cm_certificate, cm_thumbprint, cm_creation_date, cm_store_name) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        leftover[0],
    )
    raw.execute(
        backend.djigzo_url,
        "INSERT INTO cm_ctl (cm_name, cm_thumbprint) VALUES ('global', ?)",
        (gone_tp,),
    )
    before = state_of(backend)
    assert not before.absent_from_trust(gone_tp)

    report = service.doctor()
    assert [(f.code, f.ca_id, f.repairable) for f in report.findings] == [
        (FindingCode.TRUST_ORPHANED, None, True)
    ]
    fixed, after = service.repair()

    assert [f.code for f in fixed] == [FindingCode.TRUST_ORPHANED]
    assert after.ok
    state = state_of(backend)
    assert state.absent_from_trust(gone_tp)
    assert_consistent(state)
    assert state.cm.keys() == before.cm.keys() - {gone_tp}
