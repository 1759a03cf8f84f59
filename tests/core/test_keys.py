"""Reading certificates, private keys and PKCS#12 bundles; matching a key to a certificate."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.keys import (
    key_matches,
    key_pem,
    load_stored_key,
    parse_certificates,
    parse_pkcs12,
    parse_private_key,
)
from tests.support import build_cert, ec_key, openssl, rsa_key

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
PKCS1 = serialization.PrivateFormat.TraditionalOpenSSL
PKCS8 = serialization.PrivateFormat.PKCS8
PASSPHRASE = b"correct horse battery staple"


def same_key(a: rsa.RSAPrivateKey, b: rsa.RSAPrivateKey) -> bool:
    return a.private_numbers() == b.private_numbers()


def refused(code: Code, call: object, *args: object) -> CaError:
    with pytest.raises(CaError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.code is code, caught.value
    return caught.value


@pytest.fixture(scope="module")
def ca() -> x509.Certificate:
    return build_cert("Key Test CA", rsa_key())


# --- certificates -------------------------------------------------------------------


def test_a_pem_bundle_gives_every_certificate_in_order(ca: x509.Certificate) -> None:
    other = build_cert("Other CA", rsa_key(2048, 1))
    bundle = ca.public_bytes(PEM) + other.public_bytes(PEM)
    assert parse_certificates(bundle) == [ca, other]


def test_a_der_certificate_is_read(ca: x509.Certificate) -> None:
    assert parse_certificates(ca.public_bytes(DER)) == [ca]


def test_text_around_pem_blocks_is_ignored(ca: x509.Certificate) -> None:
    data = b"Bag Attributes\n    friendlyName: ca\nsubject=/CN=Key Test CA\n" + ca.public_bytes(PEM)
    assert parse_certificates(data) == [ca]


def test_a_certificate_written_by_the_openssl_cli_is_read(ca: x509.Certificate) -> None:
    text = openssl("x509", "-outform", "PEM", stdin=ca.public_bytes(PEM)).stdout
    der = openssl("x509", "-outform", "DER", stdin=ca.public_bytes(PEM)).stdout
    assert parse_certificates(text) == [ca]
    assert parse_certificates(der) == [ca]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x30\x82\x01\x00garbage",
        b"-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    ],
    ids=["empty", "text", "broken-der", "broken-pem", "truncated-pem"],
)
def test_anything_that_is_not_a_certificate_is_invalid_cert_m48(data: bytes) -> None:
    error = refused(Code.INVALID_CERT, parse_certificates, data)
    assert error.m == 48


def test_a_key_offered_as_a_certificate_is_invalid_cert() -> None:
    refused(Code.INVALID_CERT, parse_certificates, key_pem(rsa_key()))


def test_a_truncated_or_padded_der_certificate_is_invalid_cert(ca: x509.Certificate) -> None:
    der = ca.public_bytes(DER)
    refused(Code.INVALID_CERT, parse_certificates, der[:-10])
    refused(Code.INVALID_CERT, parse_certificates, der + b"\x00\x01")


# --- private keys: every encoding ---------------------------------------------------

PLAIN_FORMS = [(PEM, PKCS1), (PEM, PKCS8), (DER, PKCS1), (DER, PKCS8)]
# DER PKCS#1 cannot carry encryption: there is no such format.
ENCRYPTED_FORMS = [(PEM, PKCS1), (PEM, PKCS8), (DER, PKCS8)]


def form_id(form: tuple[serialization.Encoding, serialization.PrivateFormat]) -> str:
    encoding, fmt = form
    return f"{'pem' if encoding is PEM else 'der'}-{'pkcs1' if fmt is PKCS1 else 'pkcs8'}"


def encoded(
    form: tuple[serialization.Encoding, serialization.PrivateFormat],
    passphrase: bytes | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> bytes:
    protection: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return (key or rsa_key()).private_bytes(form[0], form[1], protection)


@pytest.mark.parametrize("form", PLAIN_FORMS, ids=form_id)
def test_a_plain_rsa_key_is_read_in_every_encoding(
    form: tuple[serialization.Encoding, serialization.PrivateFormat],
) -> None:
    assert same_key(parse_private_key(encoded(form), None), rsa_key())


@pytest.mark.parametrize("form", PLAIN_FORMS, ids=form_id)
def test_a_passphrase_given_for_a_plain_key_is_harmless(
    form: tuple[serialization.Encoding, serialization.PrivateFormat],
) -> None:
    assert same_key(parse_private_key(encoded(form), PASSPHRASE), rsa_key())


@pytest.mark.parametrize("form", ENCRYPTED_FORMS, ids=form_id)
def test_an_encrypted_rsa_key_is_read_with_its_passphrase(
    form: tuple[serialization.Encoding, serialization.PrivateFormat],
) -> None:
    assert same_key(parse_private_key(encoded(form, PASSPHRASE), PASSPHRASE), rsa_key())


@pytest.mark.parametrize("form", ENCRYPTED_FORMS, ids=form_id)
@pytest.mark.parametrize("passphrase", [None, b""], ids=["none", "empty"])
def test_an_encrypted_key_without_a_passphrase_asks_for_one(
    form: tuple[serialization.Encoding, serialization.PrivateFormat], passphrase: bytes | None
) -> None:
    refused(Code.KEY_PASSPHRASE_REQUIRED, parse_private_key, encoded(form, PASSPHRASE), passphrase)


@pytest.mark.parametrize("form", ENCRYPTED_FORMS, ids=form_id)
def test_a_wrong_passphrase_is_reported_as_wrong_every_time(
    form: tuple[serialization.Encoding, serialization.PrivateFormat],
) -> None:
    # About one wrong passphrase in 256 decrypts to bytes with valid CBC padding; the
    # result is garbage, not "an invalid key". 400 tries meet such a case 4 times in 5.
    data = encoded(form, PASSPHRASE)
    codes = set()
    for n in range(400):
        with pytest.raises(CaError) as caught:
            parse_private_key(data, f"wrong passphrase {n}".encode())
        codes.add(caught.value.code)
    assert codes == {Code.KEY_PASSPHRASE_WRONG}


OPENSSL_FORMS = {
    "genrsa-pkcs8-pem": (["pkey"], None),
    "traditional-pem": (["rsa", "-traditional"], None),
    "pkcs8-der": (["pkey", "-outform", "DER"], None),
    "pkcs1-der": (["rsa", "-outform", "DER", "-traditional"], None),
    "pkcs8-aes256": (["pkey", "-aes256", "-passout", "pass:s3cret"], b"s3cret"),
    "traditional-des3": (["rsa", "-traditional", "-des3", "-passout", "pass:s3cret"], b"s3cret"),
    "pkcs8-v1-3des": (
        ["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-passout", "pass:s3cret"],
        b"s3cret",
    ),
    "pkcs8-der-aes": (
        ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-outform", "DER", "-passout", "pass:s3cret"],
        b"s3cret",
    ),
}


@pytest.mark.parametrize("name", sorted(OPENSSL_FORMS))
def test_keys_written_by_the_openssl_cli_are_read(name: str) -> None:
    args, passphrase = OPENSSL_FORMS[name]
    data = openssl(*args, stdin=key_pem(rsa_key())).stdout
    assert same_key(parse_private_key(data, passphrase), rsa_key())
    if passphrase:
        refused(Code.KEY_PASSPHRASE_REQUIRED, parse_private_key, data, None)
        refused(Code.KEY_PASSPHRASE_WRONG, parse_private_key, data, b"not it")


# --- private keys: what is refused --------------------------------------------------


@pytest.mark.parametrize("encoding", [PEM, DER], ids=["pem", "der"])
def test_an_ec_key_is_refused_as_not_rsa_with_m49(encoding: serialization.Encoding) -> None:
    data = ec_key().private_bytes(encoding, PKCS8, serialization.NoEncryption())
    error = refused(Code.KEY_NOT_RSA, parse_private_key, data, None)
    assert error.m == 49
    assert error.params == {"algorithm": "EC"}


def test_a_traditional_ec_key_is_refused_as_not_rsa() -> None:
    data = ec_key().private_bytes(PEM, PKCS1, serialization.NoEncryption())
    refused(Code.KEY_NOT_RSA, parse_private_key, data, None)


def test_an_encrypted_ec_key_is_refused_as_not_rsa_once_decrypted() -> None:
    data = ec_key().private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(PASSPHRASE))
    refused(Code.KEY_NOT_RSA, parse_private_key, data, PASSPHRASE)


@pytest.mark.parametrize("encoding", [PEM, DER], ids=["pem", "der"])
def test_an_ed25519_key_is_refused_as_not_rsa(encoding: serialization.Encoding) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    data = key.private_bytes(encoding, PKCS8, serialization.NoEncryption())
    error = refused(Code.KEY_NOT_RSA, parse_private_key, data, None)
    assert error.params == {"algorithm": "Ed25519"}


def test_a_dsa_key_is_refused_as_not_rsa() -> None:
    key = dsa.generate_private_key(1024)
    data = key.private_bytes(PEM, PKCS8, serialization.NoEncryption())
    refused(Code.KEY_NOT_RSA, parse_private_key, data, None)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x30\x03\x02\x01\x00",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----\n",
    ],
    ids=["empty", "text", "tiny-der", "broken-pkcs8", "broken-pkcs1"],
)
@pytest.mark.parametrize("passphrase", [None, PASSPHRASE], ids=["no-pass", "pass"])
def test_garbage_is_an_invalid_key_m49(data: bytes, passphrase: bytes | None) -> None:
    error = refused(Code.INVALID_KEY, parse_private_key, data, passphrase)
    assert error.m == 49


def test_a_certificate_or_public_key_offered_as_a_key_is_invalid(ca: x509.Certificate) -> None:
    refused(Code.INVALID_KEY, parse_private_key, ca.public_bytes(PEM), None)
    public = (
        rsa_key().public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    refused(Code.INVALID_KEY, parse_private_key, public, None)


def test_a_truncated_key_is_invalid() -> None:
    data = encoded((DER, PKCS8))
    refused(Code.INVALID_KEY, parse_private_key, data[: len(data) // 2], None)


def test_load_stored_key_reads_the_unencrypted_key_a_tree_holds() -> None:
    assert same_key(load_stored_key(key_pem(rsa_key())), rsa_key())
    assert key_pem(rsa_key()).startswith(b"-----BEGIN PRIVATE KEY-----\n")


# --- PKCS#12 ------------------------------------------------------------------------


def p12(
    key: object, cert: x509.Certificate | None, cas: list[x509.Certificate] | None = None
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"ca",
        key,  # type: ignore[arg-type]
        cert,
        cas,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )


def test_a_pkcs12_bundle_gives_key_certificate_and_the_rest_of_the_chain(
    ca: x509.Certificate,
) -> None:
    root = build_cert("Corp Root", rsa_key(2048, 1))
    contents = parse_pkcs12(p12(rsa_key(), ca, [root]), PASSPHRASE)
    assert same_key(contents.key, rsa_key())
    assert contents.certificate == ca
    assert contents.others == [root]


def test_a_compatible_3des_sha1_mac_bundle_is_read(ca: x509.Certificate) -> None:
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(PASSPHRASE)
    )
    data = pkcs12.serialize_key_and_certificates(b"ca", rsa_key(), ca, None, encryption)
    assert parse_pkcs12(data, PASSPHRASE).certificate == ca


@pytest.mark.parametrize(
    "flags",
    [[], ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]],
    ids=["modern", "compatible"],
)
def test_bundles_written_by_the_openssl_cli_are_read(
    tmp_path: Path, ca: x509.Certificate, flags: list[str]
) -> None:
    (tmp_path / "key.pem").write_bytes(key_pem(rsa_key()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(PEM))
    data = openssl(
        "pkcs12", "-export", "-inkey", str(tmp_path / "key.pem"), "-in", str(tmp_path / "ca.pem"),
        "-passout", "pass:s3cret", *flags,
    ).stdout  # fmt: skip
    contents = parse_pkcs12(data, b"s3cret")
    assert contents.certificate == ca
    assert same_key(contents.key, rsa_key())


def test_a_pkcs12_with_a_wrong_or_missing_passphrase_is_invalid(ca: x509.Certificate) -> None:
    data = p12(rsa_key(), ca)
    refused(Code.PKCS12_INVALID, parse_pkcs12, data, b"wrong")
    refused(Code.PKCS12_INVALID, parse_pkcs12, data, None)


@pytest.mark.parametrize("data", [b"", b"garbage", b"\x30\x03\x02\x01\x03"])
def test_a_damaged_pkcs12_is_invalid(data: bytes) -> None:
    refused(Code.PKCS12_INVALID, parse_pkcs12, data, PASSPHRASE)


def test_a_pkcs12_without_a_key_or_without_a_certificate_is_refused(
    ca: x509.Certificate,
) -> None:
    refused(Code.PKCS12_NO_KEY, parse_pkcs12, p12(None, None, [ca]), PASSPHRASE)
    refused(Code.PKCS12_NO_KEY, parse_pkcs12, p12(rsa_key(), None), PASSPHRASE)


def test_a_pkcs12_holding_an_ec_key_is_refused_as_not_rsa() -> None:
    key = ec_key()
    cert = build_cert("EC CA", key)
    error = refused(Code.KEY_NOT_RSA, parse_pkcs12, p12(key, cert), PASSPHRASE)
    assert error.params == {"algorithm": "EC"}


# --- key_matches --------------------------------------------------------------------


def test_key_matches_its_own_certificate(ca: x509.Certificate) -> None:
    assert key_matches(rsa_key(), ca)


def test_key_matches_every_certificate_over_the_same_key(ca: x509.Certificate) -> None:
    renewed = build_cert("Key Test CA renewed", rsa_key())
    assert key_matches(rsa_key(), renewed)


def test_another_key_does_not_match(ca: x509.Certificate) -> None:
    assert not key_matches(rsa_key(2048, 1), ca)


def test_no_rsa_key_matches_an_ec_certificate() -> None:
    assert not key_matches(rsa_key(), build_cert("EC CA", ec_key()))


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def pkcs1_der(values: dict[str, int]) -> bytes:
    """An RSAPrivateKey (RFC 8017 A.1.2) with whatever numbers it is given."""
    order = ["n", "e", "d", "p", "q", "dmp1", "dmq1", "iqmp"]
    body = _der_integer(0) + b"".join(_der_integer(values[k]) for k in order)
    return b"\x30" + _der_length(len(body)) + body


def true_numbers() -> dict[str, int]:
    numbers = rsa_key().private_numbers()
    return {
        "n": numbers.public_numbers.n,
        "e": numbers.public_numbers.e,
        "d": numbers.d,
        "p": numbers.p,
        "q": numbers.q,
        "dmp1": numbers.dmp1,
        "dmq1": numbers.dmq1,
        "iqmp": numbers.iqmp,
    }


def test_the_hand_made_pkcs1_encoding_matches_the_real_one() -> None:
    assert pkcs1_der(true_numbers()) == encoded((DER, PKCS1))


@pytest.mark.parametrize("component", ["d", "p", "q", "dmp1", "dmq1", "iqmp", "e"])
def test_a_key_with_one_tampered_number_does_not_match(
    ca: x509.Certificate, component: str
) -> None:
    values = true_numbers()
    values[component] += 2
    key = parse_private_key(pkcs1_der(values), None)
    loaded = key.private_numbers()
    assert values == {
        "n": loaded.public_numbers.n,
        "e": loaded.public_numbers.e,
        "d": loaded.d,
        "p": loaded.p,
        "q": loaded.q,
        "dmp1": loaded.dmp1,
        "dmq1": loaded.dmq1,
        "iqmp": loaded.iqmp,
    }
    assert not key_matches(key, ca)


def test_a_key_built_from_numbers_with_a_wrong_d_does_not_match(ca: x509.Certificate) -> None:
    numbers = rsa_key().private_numbers()
    wrong = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d + 2,
        dmp1=numbers.dmp1,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    assert not key_matches(wrong, ca)


def test_swapped_primes_without_new_crt_values_do_not_match(ca: x509.Certificate) -> None:
    values = true_numbers()
    values["p"], values["q"] = values["q"], values["p"]
    assert not key_matches(parse_private_key(pkcs1_der(values), None), ca)


def test_swapped_primes_with_their_crt_values_are_the_same_key(ca: x509.Certificate) -> None:
    values = true_numbers()
    p, q, d = values["q"], values["p"], values["d"]
    values.update(p=p, q=q, dmp1=d % (p - 1), dmq1=d % (q - 1), iqmp=pow(q, -1, p))
    assert key_matches(parse_private_key(pkcs1_der(values), None), ca)


@settings(max_examples=40, deadline=None)
@given(
    component=st.sampled_from(["d", "p", "q", "dmp1", "dmq1", "iqmp"]),
    delta=st.integers(min_value=1, max_value=2**64).map(lambda v: v * 2),
    down=st.booleans(),
)
def test_any_tampered_private_number_stops_the_key_matching(
    component: str, delta: int, down: bool
) -> None:
    cert = build_cert("Key Test CA", rsa_key())
    values = true_numbers()
    values[component] += -delta if down and values[component] > delta else delta
    key = parse_private_key(pkcs1_der(values), None)
    assert not key_matches(key, cert)
