"""The Import External CA form, driven by keys against the real core.

A good import shows the certificate's facts and warnings first and commits on ``y``; a
refused one explains itself (under its field or in an error modal) and writes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hermes_ca_tui.app import HermesCaApp
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.screens.dialogs import ConfirmModal, ErrorModal
from tests.core import stores
from tests.core.lifecycle import assert_unchanged, default_ids, snapshot
from tests.support import FixedClock, build_cert, ec_key, rsa_key, write_pair
from tests.tui_support import (
    ORDER,
    external_root,
    field_errors,
    field_message,
    focused_id,
    import_form,
    input_value,
    on_main,
    panel,
    press,
    row_names,
    running,
    seed,
    selected_name,
    shows,
    squash,
    submit_import,
    table,
    write_pkcs12,
)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def stored_cert(data_dir: Path, name: str) -> tuple[stores.Row, bytes]:
    """The CA's row and certificate file, after checking the three stores agree."""
    state = stores.snapshot(data_dir)
    stores.assert_consistent(state)
    row = state.rows[name.lower()]
    return row, state.trees[row.directory][stores.CERT]


def assert_error_modal(app: HermesCaApp, code: str, m: int | None, text: str) -> None:
    assert isinstance(app.screen, ErrorModal), app.screen
    assert app.screen.described.code == code
    assert app.screen.described.m == m
    assert shows(app, text)
    assert shows(app, f"({code}, m={m})" if m is not None else f"({code})")


@pytest.mark.asyncio
async def test_importing_a_pem_pair_shows_the_facts_then_y_commits_to_all_three_stores(
    profile: Profile, data_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    cert_file, key_file, cert = external_root(tmp_path / "in", "External Root", clock=clock)
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "Acme External", str(cert_file), str(key_file))

        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "confirm-import"
        assert shows(app, 'Import "Acme External"?')
        assert shows(app, "Subject:  CN=External Root")
        assert shows(app, f"SHA-256:  {fingerprint(cert)}")
        assert shows(app, "Key:      RSA 2048 bits")
        assert not shows(app, "!")  # no warnings
        assert stores.snapshot(data_dir).rows.keys() == {"zeta root"}  # nothing yet

        await press(pilot, "y")
        row, pem = stored_cert(data_dir, "Acme External")
        assert x509.load_pem_x509_certificate(pem) == cert
        assert row.encryption == "imported"
        assert row.default2 != 1
        assert on_main(app)
        assert panel(app, "import").collapsed
        assert all(input_value(import_form(app), f) == "" for f in ORDER)
        assert field_errors(import_form(app)) == {}
        assert app.focused is table(app)
        assert selected_name(app) == "Acme External"


@pytest.mark.asyncio
async def test_importing_a_pkcs12_bundle_with_its_passphrase_stores_its_key(
    profile: Profile, data_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    key = rsa_key(2048, 2)
    cert = build_cert("Bundle Root", key, not_before=clock.now - timedelta(days=1))
    bundle = write_pkcs12(tmp_path / "bundle.p12", cert, key, b"s3cret pass")
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "Bundle Root", pkcs12=str(bundle), passphrase="s3cret pass")
        assert isinstance(app.screen, ConfirmModal) and app.screen.id == "confirm-import"
        assert shows(app, f"SHA-256:  {fingerprint(cert)}")
        await press(pilot, "y")

        row, pem = stored_cert(data_dir, "Bundle Root")
        assert x509.load_pem_x509_certificate(pem) == cert
        stored_key = serialization.load_pem_private_key(
            (data_dir / "CA" / row.directory / stores.KEY).read_bytes(), password=None
        )
        assert stored_key.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
        assert row_names(app) == ["Bundle Root", "Zeta Root"]


@pytest.mark.asyncio
async def test_an_import_into_an_empty_folder_becomes_the_default(
    profile: Profile, data_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    cert_file, key_file, _ = external_root(tmp_path / "in", clock=clock)
    async with running(profile, clock) as (_app, pilot):
        await submit_import(pilot, "First External", str(cert_file), str(key_file))
        await press(pilot, "y")
        row, _ = stored_cert(data_dir, "First External")
        assert default_ids(profile) == [row.id]


@pytest.mark.asyncio
async def test_warnings_show_in_the_confirmation_and_n_leaves_nothing(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    cert_file, key_file, cert = external_root(
        tmp_path / "in", "Old Root", clock=clock, expired=True
    )
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(pilot, "Old Root", str(cert_file), str(key_file))
        assert isinstance(app.screen, ConfirmModal)
        assert shows(app, 'Import "Old Root" despite 1 warning(s)?')
        expired = cert.not_valid_after_utc.date().isoformat()
        assert shows(app, f"! The certificate expired on {expired}.")
        assert app.focused is not None and app.focused.id == "cancel"
        await press(pilot, "n")
        assert on_main(app)
        assert_unchanged(before, snapshot(profile))
        # The form keeps what was typed, for another try.
        assert input_value(import_form(app), "import_name") == "Old Root"


@pytest.mark.asyncio
async def test_warnings_confirmed_with_y_import_the_expired_ca(
    profile: Profile, data_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    cert_file, key_file, _ = external_root(tmp_path / "in", "Old Root", clock=clock, expired=True)
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "Old Root", str(cert_file), str(key_file))
        await press(pilot, "y")
        stored_cert(data_dir, "Old Root")
        assert "Expired" in table(app).get_cell(str(table(app).selected_id()), "expires").plain


@pytest.mark.asyncio
async def test_missing_files_are_refused_under_their_fields_and_nothing_is_written(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(pilot, "Some Root")
        form = import_form(app)
        assert list(field_errors(form)) == ["cert_file", "key_file"]
        assert squash(field_message(form, "cert_file")) == squash(
            "Please select a CA certificate file."
        )
        assert squash(field_message(form, "key_file")) == squash(
            "Please select a CA private key file (or a PKCS#12 bundle)."
        )
        assert focused_id(app) == "cert_file"
        assert on_main(app)
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_a_path_that_does_not_exist_is_named_in_the_message_under_its_field(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    _, key_file, _ = external_root(tmp_path / "in", clock=clock)
    missing = tmp_path / "nowhere.pem"
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(pilot, "Some Root", str(missing), str(key_file))
        form = import_form(app)
        assert list(field_errors(form)) == ["cert_file"]
        assert squash(field_message(form, "cert_file")) == squash(
            f"The file {missing} cannot be read: No such file or directory."
        )
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_a_path_with_markup_in_the_import_message_is_shown_literally(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    _, key_file, _ = external_root(tmp_path / "in", clock=clock)
    markup = tmp_path / "[red]x[/red].pem"
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "Some Root", str(markup), str(key_file))
        rendered = field_message(import_form(app), "cert_file")
        assert squash("[red]x[/red].pem cannot be read") in squash(rendered)
        assert shows(app, "[red]x[/red].pem")


@pytest.mark.asyncio
async def test_a_subject_with_markup_is_shown_literally_in_the_confirmation(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    cert_file, key_file, _ = external_root(tmp_path / "in", "Acme [bold]Root", clock=clock)
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "Acme Root", str(cert_file), str(key_file))
        assert isinstance(app.screen, ConfirmModal)
        assert shows(app, "Subject:  CN=Acme [bold]Root")
        await press(pilot, "escape")


def garbage(folder: Path) -> tuple[Path, Path]:
    _, key_file, _ = external_root(folder, clock=FixedClock())
    cert_file = folder / "garbage.pem"
    cert_file.write_bytes(b"this is not a certificate\n")
    return cert_file, key_file


def mismatched(folder: Path) -> tuple[Path, Path]:
    cert_file, _, _ = external_root(folder, "One Root", index=1, clock=FixedClock())
    _, key_file, _ = external_root(folder, "Two Root", index=3, clock=FixedClock())
    return cert_file, key_file


def not_ca(folder: Path) -> tuple[Path, Path]:
    key = rsa_key(2048, 4)
    files = write_pair(folder, build_cert("Leaf", key, ca=False), key, stem="leaf")
    return files.cert, files.key


def ec(folder: Path) -> tuple[Path, Path]:
    key = ec_key()
    files = write_pair(folder, build_cert("EC Root", key), key, stem="ec")
    return files.cert, files.key


REFUSED = [
    (
        garbage,
        "INVALID_CERT",
        48,
        "The file is not a valid X.509 certificate. Please provide a PEM- or DER-encoded "
        "CA certificate.",
    ),
    (
        mismatched,
        "KEY_MISMATCH",
        50,
        "The certificate and private key do not match. The private key must correspond "
        "to the certificate.",
    ),
    (
        not_ca,
        "NOT_CA",
        51,
        "The certificate does not have the CA:TRUE basic constraint. Only CA certificates "
        "can be imported here.",
    ),
    (ec, "KEY_NOT_RSA", 49, "Only RSA keys are supported, not EC keys."),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("make", "code", "m", "text"), REFUSED, ids=[r[1] for r in REFUSED])
async def test_a_refused_import_shows_an_error_modal_with_its_code_and_writes_nothing(
    profile: Profile,
    tmp_path: Path,
    clock: FixedClock,
    make: object,
    code: str,
    m: int,
    text: str,
) -> None:
    seed(profile, clock, "Zeta Root")
    assert callable(make)
    cert_file, key_file = make(tmp_path / "in")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(pilot, "Some Root", str(cert_file), str(key_file))
        assert_error_modal(app, code, m, text)
        await press(pilot, "escape")
        assert on_main(app)
        assert not panel(app, "import").collapsed  # the form stays, to be corrected
        assert_unchanged(before, snapshot(profile))
        assert row_names(app) == ["Zeta Root"]


@pytest.mark.asyncio
async def test_a_wrong_pkcs12_passphrase_is_refused_under_the_passphrase_and_nothing_is_written(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    key = rsa_key(2048, 2)
    bundle = write_pkcs12(tmp_path / "b.p12", build_cert("Bundle Root", key), key, b"right")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(pilot, "Bundle Root", pkcs12=str(bundle), passphrase="wrong")
        form = import_form(app)
        assert on_main(app)
        assert list(field_errors(form)) == ["passphrase"]
        assert squash(field_message(form, "passphrase")) == squash(
            "The PKCS#12 bundle cannot be read: the passphrase is wrong or the file is damaged."
        )
        assert focused_id(app) == "passphrase"
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_a_wrong_key_passphrase_is_refused_under_the_passphrase_and_nothing_is_written(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    key = rsa_key(2048, 5)
    files = write_pair(tmp_path / "in", build_cert("Locked Root", key), key, passphrase=b"right")
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(
            pilot, "Locked Root", str(files.cert), str(files.key), passphrase="wrong"
        )
        form = import_form(app)
        assert on_main(app)
        assert list(field_errors(form)) == ["passphrase"]
        assert squash(field_message(form, "passphrase")) == squash(
            "The passphrase does not decrypt the private key."
        )
        assert focused_id(app) == "passphrase"
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_a_duplicate_import_name_is_refused_under_the_name_and_nothing_is_written(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    cert_file, key_file, _ = external_root(tmp_path / "in", clock=clock)
    async with running(profile, clock) as (app, pilot):
        before = snapshot(profile)
        await submit_import(pilot, "ZETA root", str(cert_file), str(key_file))
        form = import_form(app)
        assert on_main(app)
        assert list(field_errors(form)) == ["import_name"]
        assert squash(field_message(form, "import_name")) == squash(
            "A Certificate Authority with that name already exists."
        )
        assert focused_id(app) == "import_name"
        assert_unchanged(before, snapshot(profile))


@pytest.mark.asyncio
async def test_importing_a_key_another_ca_already_uses_is_refused(
    profile: Profile, tmp_path: Path, clock: FixedClock
) -> None:
    seed(profile, clock, "Zeta Root")
    cert_file, key_file, _ = external_root(tmp_path / "in", clock=clock)
    async with running(profile, clock) as (app, pilot):
        await submit_import(pilot, "First Copy", str(cert_file), str(key_file))
        await press(pilot, "y")
        before = snapshot(profile)
        await submit_import(pilot, "Second Copy", str(cert_file), str(key_file))
        assert_error_modal(
            app,
            "CA_KEY_EXISTS",
            None,
            'This key already belongs to the Certificate Authority "First Copy".',
        )
        await press(pilot, "escape")
        assert_unchanged(before, snapshot(profile))
        assert row_names(app) == ["First Copy", "Zeta Root"]
