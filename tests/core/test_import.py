"""import: every accepted form, every refusal in the web page's order, nothing written early."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from hermes_ca_tui.core.errors import CaError, Code, WarningCode
from hermes_ca_tui.core.ops.importing import ImportPlan, ImportRequest
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
    mint,
    mode,
    openssl_date,
    snapshot,
    thumbprint_of,
    verify,
    x509_field,
)
from tests.support import build_cert, ec_key, openssl, rsa_key, write_pair

MakeCa = Callable[..., CaDetails]
PASS = b"correct horse battery"


@pytest.fixture(scope="module")
def weak_key() -> rsa.RSAPrivateKey:
    """A 1024-bit key (the WEAK_KEY warning)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def root_pair(
    index: int = 1, cn: str = "External Root"
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa_key(2048, index)
    return build_cert(cn, key), key


def plan_and_import(
    service: CaService, request: ImportRequest, *, accept: bool = False
) -> tuple[ImportPlan, CaDetails]:
    plan = service.inspect_import(request)
    return plan, service.import_ca(plan, accept_warnings=accept)


def tree_of(profile: Profile, details: CaDetails) -> CaTree:
    return CaTree.at(profile.ca_root, details.summary.directory)


def refused(service: CaService, profile: Profile, request: ImportRequest) -> CaError:
    """Run inspect + import, expect a refusal, and prove nothing was written."""
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        plan = service.inspect_import(request)
        service.import_ca(plan)
    assert_unchanged(before, snapshot(profile))
    return caught.value


# --- accepted forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("der_cert", "der_key", "pkcs1", "encrypted"),
    [
        (False, False, False, False),
        (False, False, True, False),
        (True, True, False, False),
        (True, True, True, False),
        (False, False, False, True),
        (False, False, True, True),
        (True, True, False, True),
    ],
    ids=[
        "pem-pkcs8",
        "pem-pkcs1",
        "der-pkcs8",
        "der-pkcs1",
        "pem-pkcs8-encrypted",
        "pem-pkcs1-encrypted",
        "der-pkcs8-encrypted",
    ],
)
def test_import_accepts_every_cert_and_key_encoding(
    profile: Profile,
    service: CaService,
    tmp_path: Path,
    der_cert: bool,
    der_key: bool,
    pkcs1: bool,
    encrypted: bool,
) -> None:
    cert, key = root_pair()
    cert_files = write_pair(tmp_path / "c", cert, key, der=der_cert)
    key_files = write_pair(
        tmp_path / "k", cert, key, der=der_key, pkcs1=pkcs1, passphrase=PASS if encrypted else None
    )
    if encrypted:
        assert b"ENCRYPTED" in key_files.key.read_bytes() or der_key
    request = ImportRequest(
        name="External Root",
        cert_file=cert_files.cert,
        key_file=key_files.key,
        passphrase=PASS if encrypted else None,
    )
    plan, details = plan_and_import(service, request)
    assert plan.warnings == ()
    tree = tree_of(profile, details)
    assert tree.cert_path.read_bytes() == cert.public_bytes(serialization.Encoding.PEM)
    stored = openssl("pkey", "-in", str(tree.key_path), "-pubout", "-passin", "pass:").stdout
    assert stored == key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert mode(tree.key_path) == 0o600


def test_import_accepts_a_pkcs12_bundle(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    bundle = tmp_path / "ca.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ca", key, cert, None, serialization.BestAvailableEncryption(PASS)
        )
    )
    _, details = plan_and_import(
        service, ImportRequest(name="Bundle CA", pkcs12_file=bundle, passphrase=PASS)
    )
    tree = tree_of(profile, details)
    assert tree.cert_path.read_bytes() == cert.public_bytes(serialization.Encoding.PEM)
    ok, output = verify(tree.cert_path, tree.cert_path)
    assert ok, output


def test_import_accepts_a_pkcs12_made_by_the_openssl_cli(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key)
    pass_file = tmp_path / "pass.txt"
    pass_file.write_bytes(PASS + b"\n")
    bundle = tmp_path / "cli.p12"
    openssl(
        "pkcs12", "-export", "-in", str(files.cert), "-inkey", str(files.key),
        "-out", str(bundle), "-passout", f"file:{pass_file}",
    )  # fmt: skip
    _, details = plan_and_import(
        service, ImportRequest(name="Cli Bundle CA", pkcs12_file=bundle, passphrase=PASS)
    )
    assert tree_of(profile, details).cert_path.read_bytes() == cert.public_bytes(
        serialization.Encoding.PEM
    )


def test_import_of_an_intermediate_with_its_issuer_keeps_both_in_cachain(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    root_key, inter_key = rsa_key(2048, 2), rsa_key(2048, 3)
    root = build_cert("Upstream Root", root_key)
    inter = build_cert("Upstream Inter", inter_key, issuer_cn="Upstream Root", issuer_key=root_key)
    files = write_pair(tmp_path, [inter, root], inter_key)
    plan = service.inspect_import(
        ImportRequest(name="Upstream Inter", cert_file=files.cert, key_file=files.key)
    )
    assert [w.code for w in plan.warnings] == [WarningCode.NOT_SELF_SIGNED]
    details = service.import_ca(plan, accept_warnings=True)
    tree = tree_of(profile, details)
    assert tree.cert_path.read_bytes() == inter.public_bytes(serialization.Encoding.PEM)
    chain = x509.load_pem_x509_certificates(tree.chain_path.read_bytes())
    assert chain == [inter, root]
    ok, output = verify(tree.chain_path, tree.cert_path)
    assert ok, output


def test_import_of_an_intermediate_without_its_issuer_warns_chain_incomplete(
    service: CaService, tmp_path: Path
) -> None:
    root_key, inter_key = rsa_key(2048, 2), rsa_key(2048, 3)
    inter = build_cert("Lonely Inter", inter_key, issuer_cn="Absent Root", issuer_key=root_key)
    files = write_pair(tmp_path, inter, inter_key)
    plan = service.inspect_import(
        ImportRequest(name="Lonely Inter", cert_file=files.cert, key_file=files.key)
    )
    assert [w.code for w in plan.warnings] == [WarningCode.CHAIN_INCOMPLETE]


def test_imported_tree_mints_with_openssl_ca(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    files = write_pair(tmp_path / "in", cert, key)
    _, details = plan_and_import(
        service, ImportRequest(name="Mint Root", cert_file=files.cert, key_file=files.key)
    )
    tree = tree_of(profile, details)
    leaf = mint(tree.root, tmp_path / "work", "e@example.com")
    ok, output = verify(tree.cert_path, leaf)
    assert ok, output
    assert (tree.root / "serial").read_text().strip() == "0101"


# --- the row, the tree, CipherMail -----------------------------------------------------


def test_imported_row_has_the_web_pages_import_values(
    profile: Profile, service: CaService, make_ca: MakeCa, tmp_path: Path
) -> None:
    make_ca("Created First")
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key)
    _, details = plan_and_import(
        service, ImportRequest(name="External Root", cert_file=files.cert, key_file=files.key)
    )
    row = ca_row(profile, details.summary.id)
    tree = tree_of(profile, details)
    assert row["validity"] == "0"
    assert row["encryption"] == "imported"
    assert (row["organizationname"], row["unitname"], row["stateprovincename"]) == (
        "Imported",
        "Imported",
        "Imported",
    )
    assert row["countryname"] == "XX"
    assert row["applied"] == 1
    assert row["default2"] == 2
    assert row["ca_directory"] == "ExternalRoot"
    assert row["expires"] == openssl_date(x509_field(tree.cert_path, "-enddate"))
    assert row["expires"] == cert.not_valid_after_utc.date().isoformat()
    assert details.summary.type == "imported"


def test_imported_tree_has_the_layout_modes_and_fresh_bookkeeping(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key, passphrase=PASS)
    _, details = plan_and_import(
        service,
        ImportRequest(
            name="External Root", cert_file=files.cert, key_file=files.key, passphrase=PASS
        ),
    )
    tree = tree_of(profile, details)
    for folder in ("certs", "crl", "newcerts", "private", "requests", "PFX"):
        assert (tree.root / folder).is_dir()
    assert (tree.root / "serial").read_text().strip() == "0100"
    assert (tree.root / "index.txt").read_bytes() == b""
    assert (mode(tree.key_path), mode(tree.folder), mode(tree.root)) == (0o600, 0o700, 0o700)
    assert mode(tree.root / "private") == 0o700
    # Stored unencrypted, because the web UI's `openssl ca` reads it without a passphrase.
    assert b"ENCRYPTED" not in tree.key_path.read_bytes()


def test_imported_ca_is_trusted_in_ciphermail_by_its_thumbprint(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key)
    _, details = plan_and_import(
        service, ImportRequest(name="External Root", cert_file=files.cert, key_file=files.key)
    )
    tree = tree_of(profile, details)
    (cm,) = cm_certificates(profile)
    assert cm["cm_store_name"] == "roots"
    assert cm["cm_thumbprint"] == thumbprint_of(tree.cert_path)
    assert ca_row(profile, details.summary.id)["ca_djigzo_id"] == cm["cm_id"]
    (ctl,) = cm_ctl(profile)
    assert (ctl["cm_name"], ctl["cm_thumbprint"]) == ("global", cm["cm_thumbprint"])
    assert ctl_values(profile, ctl["cm_id"]) == {"status": "whitelisted", "allowExpired": "false"}


def test_first_import_becomes_default_and_later_ones_only_when_asked(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    ids = []
    for index, (name, make_default) in enumerate(
        [("Imp One", False), ("Imp Two", False), ("Imp Three", True)], start=4
    ):
        cert, key = root_pair(index, name)
        files = write_pair(tmp_path / name, cert, key)
        _, details = plan_and_import(
            service,
            ImportRequest(
                name=name, cert_file=files.cert, key_file=files.key, make_default=make_default
            ),
        )
        ids.append(details.summary.id)
        if index == 5:
            assert default_ids(profile) == [ids[0]]
    assert default_ids(profile) == [ids[2]]


def test_two_import_names_sharing_a_folder_get_two_folders(
    profile: Profile, service: CaService, make_ca: MakeCa, tmp_path: Path
) -> None:
    created = make_ca("My CA")
    key_before = tree_of(profile, created).key_path.read_bytes()
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key)
    _, details = plan_and_import(
        service, ImportRequest(name="MyCA", cert_file=files.cert, key_file=files.key)
    )
    assert details.summary.directory == "MyCA2"
    assert tree_of(profile, created).key_path.read_bytes() == key_before


# --- refusals, in the web page's order -------------------------------------------------


@pytest.fixture
def good_files(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = root_pair()
    files = write_pair(tmp_path / "good", cert, key)
    return files.cert, files.key


def garbage(tmp_path: Path, name: str = "garbage.pem") -> Path:
    path = tmp_path / name
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    return path


def test_empty_name_is_m30_before_anything_else(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    error = refused(service, profile, ImportRequest(name="  ", cert_file=garbage(tmp_path)))
    assert (error.code, error.m) == (Code.IMPORT_NAME_EMPTY, 30)


def test_name_charset_is_m31_before_the_files(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    error = refused(service, profile, ImportRequest(name="Bad_Name", cert_file=None))
    assert (error.code, error.m) == (Code.IMPORT_NAME_CHARSET, 31)


@pytest.mark.parametrize("name", ["Existing CA", "existing ca", "EXISTING CA  "])
def test_duplicate_name_is_m18_before_the_files(
    profile: Profile, service: CaService, make_ca: MakeCa, name: str
) -> None:
    make_ca("Existing CA")
    error = refused(service, profile, ImportRequest(name=name))
    assert (error.code, error.m) == (Code.DUPLICATE_NAME, 18)


def test_no_cert_file_is_m32_before_the_key(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    error = refused(service, profile, ImportRequest(name="Some CA", key_file=garbage(tmp_path)))
    assert (error.code, error.m) == (Code.CERT_FILE_MISSING, 32)


def test_no_key_file_is_m33(
    profile: Profile, service: CaService, good_files: tuple[Path, Path]
) -> None:
    error = refused(service, profile, ImportRequest(name="Some CA", cert_file=good_files[0]))
    assert (error.code, error.m) == (Code.KEY_FILE_MISSING, 33)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello world\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"\x30\x82\x01\x00garbage-der",
    ],
    ids=["empty", "text", "bad-pem", "bad-der"],
)
def test_garbage_certificate_is_m48_even_with_a_garbage_key(
    profile: Profile, service: CaService, tmp_path: Path, content: bytes
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_bytes(content)
    error = refused(
        service,
        profile,
        ImportRequest(name="Some CA", cert_file=cert, key_file=garbage(tmp_path, "k.pem")),
    )
    assert (error.code, error.m) == (Code.INVALID_CERT, 48)


def test_garbage_key_is_m49_invalid_key(
    profile: Profile, service: CaService, tmp_path: Path, good_files: tuple[Path, Path]
) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    error = refused(
        service, profile, ImportRequest(name="Some CA", cert_file=good_files[0], key_file=key)
    )
    assert (error.code, error.m) == (Code.INVALID_KEY, 49)


def test_ec_key_is_m49_key_not_rsa(profile: Profile, service: CaService, tmp_path: Path) -> None:
    key = ec_key()
    cert = build_cert("EC Root", key)
    files = write_pair(tmp_path, cert, key)
    error = refused(
        service, profile, ImportRequest(name="EC Root", cert_file=files.cert, key_file=files.key)
    )
    assert (error.code, error.m) == (Code.KEY_NOT_RSA, 49)


def test_ed25519_key_is_m49_key_not_rsa(
    profile: Profile, service: CaService, tmp_path: Path, good_files: tuple[Path, Path]
) -> None:
    key = tmp_path / "ed.pem"
    key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    error = refused(
        service, profile, ImportRequest(name="Ed Root", cert_file=good_files[0], key_file=key)
    )
    assert (error.code, error.m) == (Code.KEY_NOT_RSA, 49)


def test_mismatched_key_is_m50_before_not_ca(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    leaf = build_cert("Not A CA", rsa_key(2048, 1), ca=False)
    files = write_pair(tmp_path, leaf, rsa_key(2048, 2))
    error = refused(
        service, profile, ImportRequest(name="Some CA", cert_file=files.cert, key_file=files.key)
    )
    assert (error.code, error.m) == (Code.KEY_MISMATCH, 50)


def test_non_ca_certificate_is_m51(profile: Profile, service: CaService, tmp_path: Path) -> None:
    key = rsa_key(2048, 1)
    files = write_pair(tmp_path, build_cert("Leaf", key, ca=False), key)
    error = refused(
        service, profile, ImportRequest(name="Some CA", cert_file=files.cert, key_file=files.key)
    )
    assert (error.code, error.m) == (Code.NOT_CA, 51)


def test_encrypted_key_without_passphrase_is_refused(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key, passphrase=PASS)
    error = refused(
        service, profile, ImportRequest(name="Some CA", cert_file=files.cert, key_file=files.key)
    )
    assert error.code is Code.KEY_PASSPHRASE_REQUIRED


@pytest.mark.parametrize("pkcs1", [False, True], ids=["pkcs8", "pkcs1"])
def test_encrypted_key_with_wrong_passphrase_is_refused(
    profile: Profile, service: CaService, tmp_path: Path, pkcs1: bool
) -> None:
    cert, key = root_pair()
    files = write_pair(tmp_path, cert, key, passphrase=PASS, pkcs1=pkcs1)
    error = refused(
        service,
        profile,
        ImportRequest(
            name="Some CA", cert_file=files.cert, key_file=files.key, passphrase=b"wrong"
        ),
    )
    assert error.code is Code.KEY_PASSPHRASE_WRONG


def test_pkcs12_with_wrong_passphrase_is_refused(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    cert, key = root_pair()
    bundle = tmp_path / "ca.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ca", key, cert, None, serialization.BestAvailableEncryption(PASS)
        )
    )
    error = refused(
        service, profile, ImportRequest(name="Some CA", pkcs12_file=bundle, passphrase=b"nope")
    )
    assert error.code is Code.PKCS12_INVALID


@pytest.mark.parametrize("which", ["cert", "key"])
def test_files_over_one_mib_are_refused(
    profile: Profile, service: CaService, tmp_path: Path, good_files: tuple[Path, Path], which: str
) -> None:
    big = tmp_path / "big.pem"
    source = good_files[0] if which == "cert" else good_files[1]
    data = source.read_bytes()
    big.write_bytes(data + b"\n" * (1024 * 1024 + 1 - len(data)))
    cert_file, key_file = (big, good_files[1]) if which == "cert" else (good_files[0], big)
    error = refused(
        service, profile, ImportRequest(name="Some CA", cert_file=cert_file, key_file=key_file)
    )
    assert error.code is Code.FILE_TOO_LARGE


def test_exactly_one_mib_is_still_accepted(
    profile: Profile, service: CaService, tmp_path: Path, good_files: tuple[Path, Path]
) -> None:
    padded = tmp_path / "padded.pem"
    data = good_files[0].read_bytes()
    padded.write_bytes(data + b"\n" * (1024 * 1024 - len(data)))
    assert padded.stat().st_size == 1024 * 1024
    plan = service.inspect_import(
        ImportRequest(name="Some CA", cert_file=padded, key_file=good_files[1])
    )
    assert plan.warnings == ()


def test_the_same_key_imported_again_under_another_name_is_refused(
    profile: Profile, service: CaService, tmp_path: Path, good_files: tuple[Path, Path]
) -> None:
    plan_and_import(
        service, ImportRequest(name="First", cert_file=good_files[0], key_file=good_files[1])
    )
    error = refused(
        service,
        profile,
        ImportRequest(name="Second", cert_file=good_files[0], key_file=good_files[1]),
    )
    assert error.code is Code.CA_KEY_EXISTS


def test_a_created_cas_own_key_cannot_be_imported_as_another_ca(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    tree = tree_of(profile, make_ca("Made Here"))
    error = refused(
        service,
        profile,
        ImportRequest(name="Copy Of It", cert_file=tree.cert_path, key_file=tree.key_path),
    )
    assert error.code is Code.CA_KEY_EXISTS


def test_refusal_leaves_another_cas_folder_with_the_same_sanitised_name_alone(
    profile: Profile, service: CaService, make_ca: MakeCa, tmp_path: Path
) -> None:
    tree = tree_of(profile, make_ca("My CA"))
    key = rsa_key(2048, 1)
    files = write_pair(tmp_path, build_cert("Leaf", key, ca=False), key)
    error = refused(
        service, profile, ImportRequest(name="MyCA", cert_file=files.cert, key_file=files.key)
    )
    assert error.code is Code.NOT_CA
    assert tree.key_path.is_file()  # the web page's `rm -rf` would have removed it


# --- warnings --------------------------------------------------------------------------


def _warned(
    service: CaService, tmp_path: Path, cert: x509.Certificate, key: rsa.RSAPrivateKey
) -> ImportPlan:
    files = write_pair(tmp_path, cert, key)
    return service.inspect_import(
        ImportRequest(name="Warned CA", cert_file=files.cert, key_file=files.key)
    )


def test_expired_ca_warns_expired(service: CaService, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    key = rsa_key(2048, 1)
    cert = build_cert(
        "Old CA", key, not_before=now - timedelta(days=900), not_after=now - timedelta(days=1)
    )
    assert [w.code for w in _warned(service, tmp_path, cert, key).warnings] == [WarningCode.EXPIRED]


def test_not_yet_valid_ca_warns_not_yet_valid(service: CaService, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    key = rsa_key(2048, 1)
    cert = build_cert("Future CA", key, not_before=now + timedelta(days=10))
    assert [w.code for w in _warned(service, tmp_path, cert, key).warnings] == [
        WarningCode.NOT_YET_VALID
    ]


def test_ca_without_key_cert_sign_warns(service: CaService, tmp_path: Path) -> None:
    key = rsa_key(2048, 1)
    cert = build_cert("No KU CA", key, key_cert_sign=False)
    assert [w.code for w in _warned(service, tmp_path, cert, key).warnings] == [
        WarningCode.NO_KEY_CERT_SIGN
    ]


def test_key_under_2048_bits_warns_weak_key(
    service: CaService, tmp_path: Path, weak_key: rsa.RSAPrivateKey
) -> None:
    cert = build_cert("Weak CA", weak_key)
    plan = _warned(service, tmp_path, cert, weak_key)
    assert [w.code for w in plan.warnings] == [WarningCode.WEAK_KEY]
    assert plan.warnings[0].params["bits"] == 1024


def test_sha1_signature_warns_weak_signature_only(
    profile: Profile, service: CaService, tmp_path: Path
) -> None:
    # cryptography no longer signs with SHA-1; the OpenSSL CLI still does.
    key = rsa_key(2048, 1)
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
    # Self-signed: a SHA-1 root must not also be reported as "not self-signed".
    assert [w.code for w in plan.warnings] == [WarningCode.WEAK_SIGNATURE]
    assert plan.facts.self_signed


def test_several_warnings_are_all_reported(
    service: CaService, tmp_path: Path, weak_key: rsa.RSAPrivateKey
) -> None:
    now = datetime.now(UTC)
    cert = build_cert(
        "Bad Old CA",
        weak_key,
        key_cert_sign=False,
        not_before=now - timedelta(days=900),
        not_after=now - timedelta(days=1),
    )
    codes = {w.code for w in _warned(service, tmp_path, cert, weak_key).warnings}
    assert codes == {WarningCode.EXPIRED, WarningCode.NO_KEY_CERT_SIGN, WarningCode.WEAK_KEY}


def test_plan_with_warnings_is_refused_unless_accepted_and_nothing_is_written(
    profile: Profile, service: CaService, tmp_path: Path, weak_key: rsa.RSAPrivateKey
) -> None:
    plan = _warned(service, tmp_path, build_cert("Weak CA", weak_key), weak_key)
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.import_ca(plan)
    assert caught.value.code is Code.WARNINGS_NOT_CONFIRMED
    assert_unchanged(before, snapshot(profile))
    details = service.import_ca(plan, accept_warnings=True)
    assert ca_row(profile, details.summary.id)["encryption"] == "imported"
    assert len(ca_rows(profile)) == 1


def test_inspect_import_writes_nothing_even_when_it_passes(
    profile: Profile, service: CaService, good_files: tuple[Path, Path]
) -> None:
    before = snapshot(profile)
    plan = service.inspect_import(
        ImportRequest(name="Quiet CA", cert_file=good_files[0], key_file=good_files[1])
    )
    assert plan.name == "Quiet CA"
    assert_unchanged(before, snapshot(profile))


def test_import_writes_one_audit_record(
    profile: Profile, service: CaService, good_files: tuple[Path, Path]
) -> None:
    _, details = plan_and_import(
        service, ImportRequest(name="Audited", cert_file=good_files[0], key_file=good_files[1])
    )
    records = [r for r in audit_records(profile) if r["operation"] == "import"]
    assert len(records) == 1
    assert records[0]["outcome"] == "ok"
    assert records[0]["ca"]["id"] == details.summary.id
    cert = x509.load_pem_x509_certificate(good_files[0].read_bytes())
    assert records[0]["fingerprints"]["sha256"] == ":".join(
        f"{b:02X}" for b in cert.fingerprint(hashes.SHA256())
    )
