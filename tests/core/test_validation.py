"""Field rules of create and import (appliance-facts §1.2–1.3, PRODUCT §3)."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_ca_tui.core.errors import CaError, Code, FieldError
from hermes_ca_tui.core.validation import (
    MAX_NAME_LENGTH,
    CreateRequest,
    check_common_name,
    check_country,
    check_import_name,
    check_key_size,
    check_organization,
    check_state,
    check_unit,
    check_years,
    normalise_create,
    normalise_import_name,
    require,
    same_name,
    validate_create,
)
from tests.support import create_request

FAST = settings(max_examples=60, deadline=None)

# ISO 3166-1 alpha-2: the 249 officially assigned codes (ISO 3166 Maintenance Agency),
# written out here so the test does not trust the library the core uses.
ISO_3166_ASSIGNED = frozenset(
    re.findall(
        "[A-Z]{2}",
        """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
        BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
        DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
        GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
        KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
        MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
        PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
        SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
        US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
        """,
    )
)

# XK (Kosovo) is a user-assigned code, not an ISO assignment; the core accepts it
# (as the iso3166 library does). The property tests leave it out either way.
USER_ASSIGNED_IN_USE = frozenset({"XK"})

LETTERS = string.ascii_letters
DIGITS = string.digits
TRIM = " \t\r\n"


@dataclass(frozen=True)
class TextRule:
    """One text field of the web page: its check, class and codes."""

    field: str
    check: Callable[[str], FieldError | None]
    allowed: str
    empty: Code
    charset: Code
    too_long: Code


TEXT_RULES = [
    TextRule(
        "common_name",
        check_common_name,
        LETTERS + DIGITS + " ",
        Code.CN_EMPTY,
        Code.CN_CHARSET,
        Code.CN_TOO_LONG,
    ),
    TextRule(
        "organization",
        check_organization,
        LETTERS + DIGITS + ", ",
        Code.ORG_EMPTY,
        Code.ORG_CHARSET,
        Code.ORG_TOO_LONG,
    ),
    TextRule(
        "unit",
        check_unit,
        "_" + LETTERS + DIGITS + " ",
        Code.UNIT_EMPTY,
        Code.UNIT_CHARSET,
        Code.UNIT_TOO_LONG,
    ),
    TextRule(
        "state",
        check_state,
        LETTERS + " ",
        Code.STATE_EMPTY,
        Code.STATE_CHARSET,
        Code.STATE_TOO_LONG,
    ),
    TextRule(
        "name",
        check_import_name,
        LETTERS + DIGITS + " ",
        Code.IMPORT_NAME_EMPTY,
        Code.IMPORT_NAME_CHARSET,
        Code.IMPORT_NAME_TOO_LONG,
    ),
]
RULE_IDS = [r.field for r in TEXT_RULES]

# Every printable ASCII character, and what each field makes of it.
PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]

NON_ASCII_LOOKALIKES = [
    "é",  # Latin small e with acute
    "Ä",
    "ß",
    "ı",  # dotless i (upper-cases to I)
    "\u212a",  # Kelvin sign (case-folds to k)
    "\u017f",  # long s (case-folds to s)
    "１",  # fullwidth digit one
    "٣",  # Arabic-Indic digit three
    "²",  # superscript two
    "Ⅻ",  # Roman numeral twelve
    "\u00a0",  # no-break space inside a value
    "\u3000",  # ideographic space inside a value
]


def allowed_text(rule: TextRule, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Strings of the field's class whose first and last characters are not spaces."""
    solid = st.sampled_from(rule.allowed.replace(" ", ""))
    middle = st.text(alphabet=rule.allowed, min_size=max(0, min_size - 2), max_size=max_size - 2)
    longer = st.builds(lambda a, m, b: a + m + b, solid, middle, solid)
    return st.one_of(solid, longer) if min_size <= 1 else longer


padding = st.text(alphabet=TRIM, max_size=4)


# --- message numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "m"),
    [
        (Code.CN_EMPTY, 1),
        (Code.CN_CHARSET, 2),
        (Code.ORG_EMPTY, 9),
        (Code.ORG_CHARSET, 10),
        (Code.UNIT_EMPTY, 11),
        (Code.UNIT_CHARSET, 12),
        (Code.STATE_EMPTY, 13),
        (Code.STATE_CHARSET, 14),
        (Code.COUNTRY_LENGTH, 15),
        (Code.COUNTRY_CHARSET, 16),
        (Code.DUPLICATE_NAME, 18),
        (Code.IMPORT_NAME_EMPTY, 30),
        (Code.IMPORT_NAME_CHARSET, 31),
    ],
)
def test_field_codes_carry_the_web_pages_message_numbers(code: Code, m: int) -> None:
    assert code.m == m


@pytest.mark.parametrize(
    "code",
    [
        Code.CN_TOO_LONG,
        Code.ORG_TOO_LONG,
        Code.UNIT_TOO_LONG,
        Code.STATE_TOO_LONG,
        Code.IMPORT_NAME_TOO_LONG,
        Code.COUNTRY_UNKNOWN,
        Code.KEY_SIZE_INVALID,
        Code.VALIDITY_INVALID,
    ],
)
def test_rules_the_web_page_lacks_have_no_message_number_and_are_refusals(code: Code) -> None:
    assert code.m is None
    assert code.kind.value == 3


# --- text fields: the character classes ---------------------------------------------


@pytest.mark.parametrize("rule", TEXT_RULES, ids=RULE_IDS)
def test_each_printable_ascii_character_is_judged_by_the_fields_class(rule: TextRule) -> None:
    verdicts = {char: rule.check(f"A{char}B") for char in PRINTABLE}
    passed = {char for char, failure in verdicts.items() if failure is None}
    assert passed == set(rule.allowed)
    for char in set(PRINTABLE) - passed:
        assert verdicts[char] == FieldError(rule.field, rule.charset), char


@FAST
@given(rule=st.sampled_from(TEXT_RULES), data=st.data())
def test_any_value_of_the_class_up_to_64_characters_after_trimming_passes(
    rule: TextRule, data: st.DataObject
) -> None:
    core = data.draw(allowed_text(rule, 1, MAX_NAME_LENGTH))
    value = data.draw(padding) + core + data.draw(padding)
    assert rule.check(value) is None


@FAST
@given(rule=st.sampled_from(TEXT_RULES), data=st.data())
def test_any_character_outside_the_class_fails_with_the_charset_code(
    rule: TextRule, data: st.DataObject
) -> None:
    bad = data.draw(st.characters(exclude_characters=rule.allowed))
    head = data.draw(allowed_text(rule, 1, 30))
    tail = data.draw(allowed_text(rule, 1, 30))
    failure = rule.check(head + bad + tail)
    assert failure == FieldError(rule.field, rule.charset)


@pytest.mark.parametrize("rule", TEXT_RULES, ids=RULE_IDS)
@pytest.mark.parametrize("char", NON_ASCII_LOOKALIKES)
def test_non_ascii_letters_digits_and_spaces_fail_with_the_charset_code(
    rule: TextRule, char: str
) -> None:
    assert rule.check(f"Acme{char}Root") == FieldError(rule.field, rule.charset)


@pytest.mark.parametrize("rule", TEXT_RULES, ids=RULE_IDS)
@pytest.mark.parametrize("value", ["\x00Acme", "Acme\x1b", "Ac\u200bme", "Acme\u0301"])
def test_control_and_invisible_characters_fail_with_the_charset_code(
    rule: TextRule, value: str
) -> None:
    assert rule.check(value) == FieldError(rule.field, rule.charset)


def test_organization_allows_commas_that_the_common_name_refuses() -> None:
    assert check_organization("Acme, Inc") is None
    assert check_common_name("Acme, Inc") == FieldError("common_name", Code.CN_CHARSET)
    assert check_import_name("Acme, Inc") == FieldError("name", Code.IMPORT_NAME_CHARSET)


def test_unit_allows_underscores_that_the_organization_refuses() -> None:
    assert check_unit("IT_Security") is None
    assert check_organization("IT_Security") == FieldError("organization", Code.ORG_CHARSET)
    assert check_common_name("IT_Security") == FieldError("common_name", Code.CN_CHARSET)


def test_state_allows_spaces_but_refuses_digits_commas_and_underscores() -> None:
    assert check_state("North Carolina") is None
    for value in ("District 9", "Baden, Wuerttemberg", "New_York"):
        assert check_state(value) == FieldError("state", Code.STATE_CHARSET)


# --- text fields: empty, trimming, length -------------------------------------------


@FAST
@given(rule=st.sampled_from(TEXT_RULES), value=st.text(alphabet=TRIM, max_size=10))
def test_empty_or_whitespace_only_values_fail_with_the_empty_code(
    rule: TextRule, value: str
) -> None:
    assert rule.check(value) == FieldError(rule.field, rule.empty)


@FAST
@given(rule=st.sampled_from(TEXT_RULES), data=st.data())
def test_values_longer_than_64_characters_fail_with_the_too_long_code(
    rule: TextRule, data: st.DataObject
) -> None:
    value = data.draw(allowed_text(rule, MAX_NAME_LENGTH + 1, 300))
    assert rule.check(value) == FieldError(rule.field, rule.too_long, {"max": 64})


@pytest.mark.parametrize("rule", TEXT_RULES, ids=RULE_IDS)
def test_the_length_limit_is_64_characters_counted_after_trimming(rule: TextRule) -> None:
    assert MAX_NAME_LENGTH == 64
    assert rule.check("A" * 64) is None
    assert rule.check("   " + "A" * 64 + "\t ") is None
    assert rule.check("A" * 65) == FieldError(rule.field, rule.too_long, {"max": 64})


@pytest.mark.parametrize("rule", TEXT_RULES, ids=RULE_IDS)
def test_a_long_value_with_a_bad_character_reports_the_web_pages_charset_code(
    rule: TextRule,
) -> None:
    assert rule.check("A" * 70 + "!") == FieldError(rule.field, rule.charset)


# --- country ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", "U", "USA", " U S ", "D E"])
def test_country_of_other_than_two_characters_fails_with_m15(value: str) -> None:
    failure = check_country(value)
    assert failure == FieldError("country", Code.COUNTRY_LENGTH)
    assert failure.code.m == 15


@pytest.mark.parametrize("value", ["1A", "D-", "D_", "é1", "ÄÖ", "\u212aE", "U\u017f"])
def test_country_of_two_characters_that_are_not_ascii_letters_fails_with_m16(value: str) -> None:
    failure = check_country(value)
    assert failure == FieldError("country", Code.COUNTRY_CHARSET)
    assert failure.code.m == 16


def test_country_is_trimmed_before_its_length_is_checked() -> None:
    assert check_country(" D ") == FieldError("country", Code.COUNTRY_LENGTH)
    assert check_country("\tde\n") is None


@FAST
@given(
    code=st.sampled_from(sorted(ISO_3166_ASSIGNED)),
    upper=st.tuples(st.booleans(), st.booleans()),
    pad=padding,
)
def test_any_assigned_iso_3166_code_passes_in_any_case(
    code: str, upper: tuple[bool, bool], pad: str
) -> None:
    typed = "".join(c if up else c.lower() for c, up in zip(code, upper, strict=True))
    assert check_country(pad + typed + pad) is None
    normalised = normalise_create(create_request(country=pad + typed))
    assert normalised.country == code


@FAST
@given(pair=st.text(alphabet=LETTERS, min_size=2, max_size=2))
def test_two_ascii_letters_that_are_no_assigned_code_fail_as_unknown(pair: str) -> None:
    if pair.upper() in USER_ASSIGNED_IN_USE:
        return
    failure = check_country(pair)
    if pair.upper() in ISO_3166_ASSIGNED:
        assert failure is None
    else:
        assert failure == FieldError("country", Code.COUNTRY_UNKNOWN, {"value": pair.upper()})


@pytest.mark.parametrize("value", ["XX", "xx", "EU", "UK", "AA", "ZZ", "QM", "OO"])
def test_reserved_and_placeholder_country_codes_are_refused(value: str) -> None:
    assert check_country(value) == FieldError(
        "country", Code.COUNTRY_UNKNOWN, {"value": value.upper()}
    )


def test_country_is_upper_cased_and_checked_against_iso_3166() -> None:
    assert normalise_create(create_request(country=" de ")).country == "DE"
    assert check_country("gB") is None
    assert check_country("uk") == FieldError("country", Code.COUNTRY_UNKNOWN, {"value": "UK"})


# --- key size and validity ----------------------------------------------------------


@pytest.mark.parametrize("value", [2048, 4096, "2048", "4096", " 4096 "])
def test_key_size_2048_or_4096_passes_as_number_or_text(value: int | str) -> None:
    assert check_key_size(value) is None


@pytest.mark.parametrize(
    "value", [1024, 3072, 8192, 0, -4096, "", "abc", "4096.0", "4k", "٤٠٩٦", "4096 bits"]
)
def test_other_key_sizes_fail_with_key_size_invalid(value: int | str) -> None:
    assert check_key_size(value) == FieldError("key_size", Code.KEY_SIZE_INVALID)


def test_a_boolean_is_not_taken_for_a_key_size_or_years() -> None:
    assert check_key_size(True) == FieldError("key_size", Code.KEY_SIZE_INVALID)
    assert check_years(True) == FieldError("years", Code.VALIDITY_INVALID)


@FAST
@given(value=st.integers().filter(lambda v: v not in (2048, 4096)))
def test_any_other_integer_key_size_fails(value: int) -> None:
    assert check_key_size(value) == FieldError("key_size", Code.KEY_SIZE_INVALID)
    assert check_key_size(str(value)) == FieldError("key_size", Code.KEY_SIZE_INVALID)


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5, "1", " 5 "])
def test_validity_of_one_to_five_years_passes(value: int | str) -> None:
    assert check_years(value) is None


@FAST
@given(value=st.integers().filter(lambda v: not 1 <= v <= 5))
def test_any_validity_outside_one_to_five_years_fails(value: int) -> None:
    assert check_years(value) == FieldError("years", Code.VALIDITY_INVALID)
    assert check_years(str(value)) == FieldError("years", Code.VALIDITY_INVALID)


@pytest.mark.parametrize("value", ["", "five", "5 years", "1825", "2.5", "５"])
def test_validity_text_that_is_not_a_whole_number_of_years_fails(value: str) -> None:
    assert check_years(value) == FieldError("years", Code.VALIDITY_INVALID)


def test_defaults_are_4096_bits_and_five_years() -> None:
    request = CreateRequest("Root", "Acme", "IT", "Bavaria", "DE")
    assert request.key_size == 4096
    assert request.years == 5
    assert validate_create(request) == []


# --- the order of checks ------------------------------------------------------------

BROKEN: dict[str, tuple[str, object, Code]] = {
    "common_name": ("common_name", "Bad/CN", Code.CN_CHARSET),
    "organization": ("organization", "", Code.ORG_EMPTY),
    "unit": ("unit", "IT-Sec", Code.UNIT_CHARSET),
    "state": ("state", "Zone 9", Code.STATE_CHARSET),
    "country": ("country", "USA", Code.COUNTRY_LENGTH),
    "key_size": ("key_size", 1024, Code.KEY_SIZE_INVALID),
    "years": ("years", 10, Code.VALIDITY_INVALID),
}
WEB_ORDER = list(BROKEN)


@FAST
@given(broken=st.sets(st.sampled_from(WEB_ORDER)))
def test_validate_create_returns_every_failure_in_the_web_pages_order(broken: set[str]) -> None:
    request = create_request("Test Root CA", **{BROKEN[f][0]: BROKEN[f][1] for f in broken})
    failures = validate_create(request)
    expected = [f for f in WEB_ORDER if f in broken]
    assert [f.field for f in failures] == expected
    assert [f.code for f in failures] == [BROKEN[f][2] for f in expected]


@FAST
@given(broken=st.sets(st.sampled_from(WEB_ORDER), min_size=1))
def test_normalise_create_raises_the_first_failing_field_in_web_order(broken: set[str]) -> None:
    request = create_request("Test Root CA", **{BROKEN[f][0]: BROKEN[f][1] for f in broken})
    first = next(f for f in WEB_ORDER if f in broken)
    with pytest.raises(CaError) as caught:
        normalise_create(request)
    assert caught.value.code is BROKEN[first][2]
    assert caught.value.field == first


def test_an_empty_form_reports_the_common_name_first_with_m1() -> None:
    request = CreateRequest("", "", "", "", "", "", "")
    failures = validate_create(request)
    assert [f.code for f in failures] == [
        Code.CN_EMPTY,
        Code.ORG_EMPTY,
        Code.UNIT_EMPTY,
        Code.STATE_EMPTY,
        Code.COUNTRY_LENGTH,
        Code.KEY_SIZE_INVALID,
        Code.VALIDITY_INVALID,
    ]
    with pytest.raises(CaError) as caught:
        normalise_create(request)
    assert caught.value.m == 1


def test_normalise_create_trims_every_field_and_converts_numbers() -> None:
    request = CreateRequest(
        "  My Root CA ",
        "\tAcme, Inc ",
        " IT_Security\n",
        " North Carolina ",
        " us ",
        " 2048 ",
        "3",
        make_default=True,
    )
    assert normalise_create(request) == CreateRequest(
        "My Root CA", "Acme, Inc", "IT_Security", "North Carolina", "US", 2048, 3, True
    )


def test_normalise_create_keeps_inner_spaces_as_typed() -> None:
    request = create_request("My  Root   CA", organization="Acme ,  Inc")
    normalised = normalise_create(request)
    assert normalised.common_name == "My  Root   CA"
    assert normalised.organization == "Acme ,  Inc"


def test_validation_does_not_change_the_request() -> None:
    request = create_request(" Lower ", country="de")
    before = replace(request)
    validate_create(request)
    normalise_create(request)
    assert request == before


# --- import name --------------------------------------------------------------------


def test_import_name_is_trimmed() -> None:
    assert normalise_import_name("  External Root CA  ") == "External Root CA"


@pytest.mark.parametrize(
    ("value", "code", "m"),
    [
        ("", Code.IMPORT_NAME_EMPTY, 30),
        ("   ", Code.IMPORT_NAME_EMPTY, 30),
        ("Root-CA", Code.IMPORT_NAME_CHARSET, 31),
        ("Wurzel CA Ä", Code.IMPORT_NAME_CHARSET, 31),
        ("A" * 65, Code.IMPORT_NAME_TOO_LONG, None),
    ],
)
def test_import_name_failures_raise_the_web_pages_codes(value: str, code: Code, m: int) -> None:
    with pytest.raises(CaError) as caught:
        normalise_import_name(value)
    assert caught.value.code is code
    assert caught.value.m == m
    assert caught.value.field == "name"


def test_require_raises_the_failure_with_its_field_and_parameters() -> None:
    require(None)
    with pytest.raises(CaError) as caught:
        require(check_common_name("A" * 65))
    assert caught.value.code is Code.CN_TOO_LONG
    assert caught.value.field == "common_name"
    assert caught.value.params == {"max": 64}


# --- same_name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("My Root CA", "my root ca"),
        ("My Root CA", "MY ROOT CA   "),
        ("My Root CA  ", "My Root CA"),
        ("abc", "ABC "),
    ],
)
def test_same_name_ignores_case_and_trailing_spaces(a: str, b: str) -> None:
    assert same_name(a, b)
    assert same_name(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("My Root CA", " My Root CA"),
        ("My Root CA", "MyRootCA"),
        ("My Root CA", "My  Root CA"),
        ("Root CA 1", "Root CA 2"),
    ],
)
def test_same_name_counts_leading_and_inner_spaces_and_other_characters(a: str, b: str) -> None:
    assert not same_name(a, b)
    assert not same_name(b, a)


@FAST
@given(data=st.data(), flips=st.integers(0, 2**64 - 1), trailing=st.integers(0, 5))
def test_same_name_holds_for_any_case_variant_with_trailing_spaces(
    data: st.DataObject, flips: int, trailing: int
) -> None:
    name = data.draw(allowed_text(TEXT_RULES[0], 1, MAX_NAME_LENGTH))
    variant = "".join(c.swapcase() if flips >> i & 1 else c for i, c in enumerate(name))
    assert same_name(name, variant + " " * trailing)
    assert not same_name(name, name + "X")
