"""The CA certificate profile (pki-and-peers §3.5) and renew-in-place (§3.6, AF §4)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.profile import (
    BACKDATE,
    SubjectFields,
    add_years,
    build_ca_certificate,
    build_subject,
    generate_key,
    is_self_signed,
    renew_certificate,
    renewal_not_after,
)
from tests.support import build_cert, openssl, rsa_key

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
LATER = datetime(2030, 6, 1, 8, 30, 0, tzinfo=UTC)
AT_LATER = str(int((LATER + timedelta(hours=1)).timestamp()))
"""``openssl verify -attime`` for checks made after a renewal at LATER."""
FIELDS = SubjectFields("My Root CA", "Acme, Inc", "IT_Security", "North Carolina", "US")

CA_ONLY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def new_ca(days: int = 1825, now: datetime = NOW) -> x509.Certificate:
    return build_ca_certificate(rsa_key(), build_subject(FIELDS), days, now)


def key_hash(key: rsa.RSAPublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return hashlib.sha1(der, usedforsecurity=False).digest()


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def key_file(folder: Path, key: rsa.RSAPrivateKey) -> Path:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return write(folder / "key.pem", data)


# The appliance's [req]/[v3_ca] settings (AF §3.4), with the digest chosen per test.
APPLIANCE_REQ_CNF = """\
[req]
distinguished_name = dn
prompt = no
string_mask = nombstr
x509_extensions = v3_ca
[dn]
[v3_ca]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
basicConstraints = CA:true
"""


def openssl_ca(folder: Path, subj: str, digest: str) -> x509.Certificate:
    """A self-signed CA made by the OpenSSL CLI as the appliance's create_ca.sh would."""
    cnf = write(folder / "req.cnf", APPLIANCE_REQ_CNF.encode())
    out = folder / f"ca-{digest}.pem"
    key = key_file(folder, rsa_key())
    openssl(
        "req", "-x509", "-new", "-config", str(cnf), "-key", str(key), f"-{digest}",
        "-days", "1825", "-subj", subj, "-out", str(out),
    )  # fmt: skip
    return x509.load_pem_x509_certificate(out.read_bytes())


def leaf_of(ca: x509.Certificate, *, aki: x509.AuthorityKeyIdentifier) -> x509.Certificate:
    key = rsa_key(2048, 1)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alice@example.org")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(aki, critical=False)
        .sign(rsa_key(), hashes.SHA256())
    )


def self_signed(
    subject: x509.Name,
    extensions: list[tuple[x509.ExtensionType, bool]],
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(rsa_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1825))
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(rsa_key(), algorithm or hashes.SHA256())


def extension(
    cert: x509.Certificate, oid: x509.ObjectIdentifier
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_oid(oid)


# --- the profile of a new CA ----------------------------------------------------------


def test_ca_basic_constraints_are_critical_ca_true_without_path_length() -> None:
    ext = extension(new_ca(), ExtensionOID.BASIC_CONSTRAINTS)
    assert ext.critical
    assert ext.value == x509.BasicConstraints(ca=True, path_length=None)


def test_ca_key_usage_is_critical_key_cert_sign_and_crl_sign_only() -> None:
    ext = extension(new_ca(), ExtensionOID.KEY_USAGE)
    assert ext.critical
    assert ext.value == CA_ONLY_USAGE


def test_ca_subject_key_identifier_is_the_sha1_hash_of_the_public_key() -> None:
    ca = new_ca()
    ext = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ext.oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER
    assert not ext.critical
    public = ca.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert ext.value.digest == key_hash(public)


def test_ca_authority_key_identifier_names_only_its_own_key_id() -> None:
    ca = new_ca()
    aki = ca.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert not aki.critical
    assert aki.value.key_identifier == ski.digest
    assert aki.value.authority_cert_issuer is None
    assert aki.value.authority_cert_serial_number is None


def test_ca_has_no_extended_key_usage_and_no_extension_beyond_the_profile() -> None:
    oids = {ext.oid for ext in new_ca().extensions}
    assert ExtensionOID.EXTENDED_KEY_USAGE not in oids
    assert oids == {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }


def test_ca_is_a_v3_certificate_signed_with_sha256_with_rsa() -> None:
    ca = new_ca()
    assert ca.version is x509.Version.v3
    assert isinstance(ca.signature_hash_algorithm, hashes.SHA256)
    assert ca.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256


def test_ca_serial_is_positive_random_and_at_least_64_bits_within_20_octets() -> None:
    serials = [new_ca().serial_number for _ in range(8)]
    assert len(set(serials)) == len(serials)
    for serial in serials:
        assert serial > 0
        assert 64 <= serial.bit_length() <= 159


def test_ca_not_before_is_backdated_a_few_minutes_and_not_after_counts_days_from_now() -> None:
    ca = new_ca(days=1460)
    assert ca.not_valid_before_utc < NOW
    assert timedelta(minutes=1) <= NOW - ca.not_valid_before_utc <= timedelta(minutes=15)
    assert ca.not_valid_before_utc == NOW - BACKDATE
    assert ca.not_valid_after_utc == NOW + timedelta(days=1460)


def test_ca_subject_is_c_st_o_ou_cn_with_a_printable_country_and_utf8_names() -> None:
    ca = new_ca()
    attributes = list(ca.subject)
    assert [a.oid for a in attributes] == [
        NameOID.COUNTRY_NAME,
        NameOID.STATE_OR_PROVINCE_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.COMMON_NAME,
    ]
    types = [a._type for a in attributes]
    assert types == [_ASN1Type.PrintableString] + [_ASN1Type.UTF8String] * 4
    assert ca.subject.rfc4514_string() == (
        "CN=My Root CA,OU=IT_Security,O=Acme\\, Inc,ST=North Carolina,C=US"
    )
    assert ca.issuer.public_bytes() == ca.subject.public_bytes()


def test_ca_is_self_signed_and_passes_openssl_strict_verification(tmp_path: Path) -> None:
    ca = new_ca()
    assert is_self_signed(ca)
    path = write(tmp_path / "ca.pem", pem(ca))
    result = openssl("verify", "-x509_strict", "-CAfile", str(path), str(path))
    assert result.stdout.strip().endswith(b": OK")


def test_generated_keys_have_the_requested_size_and_exponent_65537() -> None:
    key = generate_key(2048)
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537


# --- is_self_signed -----------------------------------------------------------------


def test_a_certificate_with_its_own_name_but_another_key_is_not_self_signed() -> None:
    forged = build_cert("My Root CA", rsa_key(2048, 1), issuer_key=rsa_key())
    assert forged.issuer == forged.subject
    assert not is_self_signed(forged)


def test_a_certificate_issued_by_another_ca_is_not_self_signed() -> None:
    sub = build_cert("Sub CA", rsa_key(2048, 1), issuer_cn="Root", issuer_key=rsa_key())
    assert not is_self_signed(sub)


# --- renewal date -------------------------------------------------------------------


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "now", "expected"),
    [
        # Expiry far ahead: five calendar years are added to it.
        (utc(2030, 6, 15, 10), utc(2026, 12, 3, 12), utc(2035, 6, 15, 10)),
        # Long expired: the 1825-day floor from now wins (crossing 29 Feb 2028).
        (utc(2020, 1, 1), utc(2026, 12, 3, 12), utc(2031, 12, 2, 12)),
        # One day left: current + 5 y (4 Dec 2031) beats now + 1825 d (2 Dec 2031).
        (utc(2026, 12, 4, 12), utc(2026, 12, 3, 12), utc(2031, 12, 4, 12)),
        # Expiring on 29 February: five years later is 28 February.
        (utc(2028, 2, 29, 9), utc(2026, 12, 3, 12), utc(2033, 2, 28, 9)),
        # 28 February into a leap year stays the 28th.
        (utc(2027, 2, 28, 9), utc(2026, 12, 3, 12), utc(2032, 2, 28, 9)),
        # Expired on 29 February: the floor applies.
        (utc(2024, 2, 29), utc(2026, 12, 3, 12), utc(2031, 12, 2, 12)),
        # Renewed on 29 February: 1825 days later is 27 February 2033 (2032 is a leap year).
        (utc(2027, 1, 1), utc(2028, 2, 29, 9), utc(2033, 2, 27, 9)),
    ],
)
def test_renewal_expiry_is_the_later_of_five_calendar_years_and_1825_days(
    current: datetime, now: datetime, expected: datetime
) -> None:
    assert renewal_not_after(current, now) == expected


def test_renewal_expiry_drops_microseconds() -> None:
    result = renewal_not_after(utc(2030, 6, 15, 10).replace(microsecond=999_999), NOW)
    assert result == utc(2035, 6, 15, 10)
    floor = renewal_not_after(utc(2020, 1, 1), NOW.replace(microsecond=500_000))
    assert floor.microsecond == 0


@pytest.mark.parametrize(
    ("moment", "years", "expected"),
    [
        (utc(2028, 2, 29, 7, 30), 4, utc(2032, 2, 29, 7, 30)),
        (utc(2028, 2, 29, 7, 30), 1, utc(2029, 2, 28, 7, 30)),
        (utc(2028, 2, 29), 5, utc(2033, 2, 28)),
        (utc(2026, 12, 31, 23, 59, 59), 5, utc(2031, 12, 31, 23, 59, 59)),
    ],
)
def test_add_years_adds_calendar_years_and_clamps_29_february(
    moment: datetime, years: int, expected: datetime
) -> None:
    assert add_years(moment, years) == expected


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=100, deadline=None)
@given(current=moments, now=moments)
def test_renewal_expiry_is_never_before_either_bound_and_is_one_of_them(
    current: datetime, now: datetime
) -> None:
    try:
        extended = current.replace(year=current.year + 5)
    except ValueError:  # 29 February into a common year
        extended = current.replace(year=current.year + 5, day=28)
    floor = now + timedelta(days=1825)
    result = renewal_not_after(current, now)
    assert result >= extended
    assert result >= floor
    assert result in (extended, floor)


# --- renew_certificate --------------------------------------------------------------


def renew(current: x509.Certificate, **kwargs: int) -> x509.Certificate:
    not_after = renewal_not_after(current.not_valid_after_utc, LATER)
    return renew_certificate(current, rsa_key(), not_after, LATER, **kwargs)


def test_renewal_keeps_the_key() -> None:
    old = new_ca()
    renewed = renew(old)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert renewed.public_key().public_bytes(der, spki) == old.public_key().public_bytes(der, spki)


def test_renewal_keeps_the_subject_der_byte_for_byte_and_stays_self_issued() -> None:
    old = new_ca()
    renewed = renew(old)
    assert renewed.subject.public_bytes() == old.subject.public_bytes()
    assert renewed.issuer.public_bytes() == old.subject.public_bytes()
    assert is_self_signed(renewed)


def test_renewal_takes_a_new_positive_random_serial() -> None:
    old = new_ca()
    serials = {renew(old).serial_number for _ in range(4)}
    assert old.serial_number not in serials
    assert len(serials) == 4
    assert all(s > 0 and s.bit_length() >= 64 for s in serials)
    assert renew(old, serial=0x1234ABCD).serial_number == 0x1234ABCD


def test_renewal_sets_not_before_backdated_from_now_and_the_given_not_after() -> None:
    old = new_ca()
    not_after = utc(2036, 1, 2, 3, 4, 5)
    renewed = renew_certificate(old, rsa_key(), not_after, LATER)
    assert renewed.not_valid_before_utc == LATER - BACKDATE
    assert renewed.not_valid_after_utc == not_after


def test_renewal_keeps_the_subject_key_identifier_even_when_it_is_not_the_key_hash() -> None:
    ski = x509.SubjectKeyIdentifier(b"\x42" * 8)
    old = self_signed(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Custom SKI CA")]),
        [(x509.BasicConstraints(ca=True, path_length=None), True), (ski, False)],
    )
    renewed = renew(old)
    assert renewed.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value == ski


def test_renewal_replaces_an_aki_with_issuer_and_serial_by_a_keyid_only_one() -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AKI Serial CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(rsa_key().public_key())
    old_aki = x509.AuthorityKeyIdentifier(
        key_identifier=ski.digest,
        authority_cert_issuer=[x509.DirectoryName(subject)],
        authority_cert_serial_number=0xC0FFEE,
    )
    old = self_signed(
        subject,
        [(x509.BasicConstraints(ca=True, path_length=None), True), (ski, False), (old_aki, False)],
    )
    renewed = renew(old)
    aki = renewed.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert not aki.critical
    assert aki.value == x509.AuthorityKeyIdentifier(ski.digest, None, None)


def test_renewal_adds_no_aki_to_a_ca_that_had_none() -> None:
    old = self_signed(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "No AKI CA")]),
        [(x509.BasicConstraints(ca=True, path_length=None), True)],
    )
    with pytest.raises(x509.ExtensionNotFound):
        renew(old).extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


def test_renewal_keeps_every_other_extension_with_its_criticality() -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Constrained CA")])
    policies = x509.CertificatePolicies(
        [x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), None)]
    )
    constraints = x509.NameConstraints([x509.RFC822Name("example.org")], None)
    old = self_signed(
        subject,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (CA_ONLY_USAGE, True),
            (x509.SubjectKeyIdentifier.from_public_key(rsa_key().public_key()), False),
            (constraints, True),
            (policies, False),
        ],
    )
    renewed = renew(old)
    assert [(e.oid, e.critical, e.value) for e in renewed.extensions] == [
        (e.oid, e.critical, e.value) for e in old.extensions
    ]


@pytest.mark.parametrize("algorithm", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_renewal_keeps_a_strong_signature_hash(
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512,
) -> None:
    old = self_signed(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Strong CA")]),
        [(x509.BasicConstraints(ca=True, path_length=None), True)],
        algorithm,
    )
    renewed = renew(old)
    assert renewed.signature_hash_algorithm is not None
    assert renewed.signature_hash_algorithm.name == algorithm.name


def test_a_sha1_ca_made_by_openssl_is_renewed_with_sha256(tmp_path: Path) -> None:
    old = openssl_ca(tmp_path, "/C=DE/O=Acme/CN=Old SHA1 CA", "sha1")
    assert isinstance(old.signature_hash_algorithm, hashes.SHA1)
    assert is_self_signed(old)
    renewed = renew(old)
    assert isinstance(renewed.signature_hash_algorithm, hashes.SHA256)
    assert renewed.subject.public_bytes() == old.subject.public_bytes()


def test_an_appliance_style_ca_loses_its_issuer_and_serial_aki_on_renewal(
    tmp_path: Path,
) -> None:
    old = openssl_ca(tmp_path, "/C=US/ST=NC/O=Acme Inc/OU=IT/CN=Hermes Root", "sha256")
    old_aki = old.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert old_aki.authority_cert_serial_number == old.serial_number
    renewed = renew(old)
    aki = renewed.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = old.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki == x509.AuthorityKeyIdentifier(ski.digest, None, None)
    assert renewed.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value == ski
    # OpenSSL itself accepts the result as a strict, self-signed root.
    path = write(tmp_path / "renewed.pem", pem(renewed))
    result = openssl("verify", "-x509_strict", "-attime", AT_LATER, "-CAfile", str(path), str(path))
    assert result.stdout.strip().endswith(b": OK")


def test_leaves_issued_before_the_renewal_verify_against_the_renewed_ca(tmp_path: Path) -> None:
    old = new_ca()
    ski = old.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    leaf = leaf_of(old, aki=x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski))
    renewed = renew(old)
    leaf.verify_directly_issued_by(renewed)
    ca_path = write(tmp_path / "renewed.pem", pem(renewed))
    leaf_path = write(tmp_path / "leaf.pem", pem(leaf))
    result = openssl("verify", "-attime", AT_LATER, "-CAfile", str(ca_path), str(leaf_path))
    assert result.stdout.strip().endswith(b": OK")


UNUSUAL_TYPES = [
    _ASN1Type.PrintableString,
    _ASN1Type.BMPString,
    _ASN1Type.UniversalString,
    _ASN1Type.T61String,
    _ASN1Type.IA5String,
    _ASN1Type.VisibleString,
    _ASN1Type.UTF8String,
]


@pytest.mark.parametrize("string_type", UNUSUAL_TYPES, ids=lambda t: t.name)
def test_renewal_keeps_subjects_with_unusual_string_types_byte_for_byte(
    string_type: _ASN1Type,
) -> None:
    value = "Wurzel CA" if string_type is _ASN1Type.PrintableString else "Wurzel-CA Grüße"
    if string_type in (_ASN1Type.IA5String, _ASN1Type.VisibleString, _ASN1Type.T61String):
        value = "Wurzel CA (legacy)"
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE", _type=_ASN1Type.PrintableString),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme", _type=string_type),
            x509.NameAttribute(NameOID.COMMON_NAME, value, _type=string_type),
        ]
    )
    built = self_signed(subject, [(x509.BasicConstraints(ca=True, path_length=None), True)])
    old = x509.load_der_x509_certificate(built.public_bytes(serialization.Encoding.DER))
    renewed = renew(old)
    assert renewed.subject.public_bytes() == old.subject.public_bytes()
    assert renewed.issuer.public_bytes() == old.subject.public_bytes()
    assert [a._type for a in renewed.subject] == [a._type for a in subject]


def test_renewal_keeps_a_multi_valued_rdn_and_an_ia5_email_byte_for_byte() -> None:
    subject = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "PKI"),
                ]
            ),
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.EMAIL_ADDRESS, "pki@example.org")]
            ),
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.COMMON_NAME, "Multi RDN CA")]
            ),
        ]
    )
    old = self_signed(subject, [(x509.BasicConstraints(ca=True, path_length=None), True)])
    renewed = renew(old)
    assert renewed.subject.public_bytes() == old.subject.public_bytes()


def test_renewal_of_a_subject_cryptography_cannot_read_is_refused_with_a_clear_code(
    tmp_path: Path,
) -> None:
    # nombstr (the appliance's string_mask) with Latin-1 input gives raw T61Strings.
    subj = os.fsdecode("/C=DE/O=M\xfcller/CN=Gr\xfc\xdfe CA".encode("latin-1"))
    cnf = write(tmp_path / "req.cnf", APPLIANCE_REQ_CNF.encode())
    key = key_file(tmp_path, rsa_key())
    out = tmp_path / "t61.pem"
    openssl(
        "req", "-x509", "-new", "-config", str(cnf), "-key", str(key), "-sha256",
        "-days", "30", "-subj", subj, "-out", str(out),
    )  # fmt: skip
    raw = out.read_bytes()
    old = x509.load_pem_x509_certificate(raw)
    with pytest.raises(CaError) as caught:
        renew(old)
    assert caught.value.code is Code.RENEW_SUBJECT_ENCODING


def test_renewal_refuses_a_ca_issued_by_another_ca() -> None:
    sub = build_cert("Sub CA", rsa_key(2048, 1), issuer_cn="Corp Root", issuer_key=rsa_key())
    with pytest.raises(CaError) as caught:
        renew_certificate(sub, rsa_key(2048, 1), LATER + timedelta(days=1825), LATER)
    assert caught.value.code is Code.RENEW_NOT_SELF_SIGNED
    assert caught.value.params == {"issuer": "CN=Corp Root"}


def test_renewal_refuses_a_ca_carrying_its_own_name_but_signed_by_another_key() -> None:
    forged = build_cert("Lookalike CA", rsa_key(2048, 1), issuer_key=rsa_key())
    with pytest.raises(CaError) as caught:
        renew_certificate(forged, rsa_key(2048, 1), LATER + timedelta(days=1825), LATER)
    assert caught.value.code is Code.RENEW_NOT_SELF_SIGNED
