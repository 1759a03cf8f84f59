"""Field rules for creating and importing CAs, as pure functions.

The rules are the web page's (appliance-facts §1.2–1.3), checked in its order, plus our
own additions: a 64-character limit (OpenSSL's ub-name), the country upper-cased and
checked against ISO 3166-1, and the key size and validity whitelisted. The TUI wraps
each ``check_*`` function in a Textual validator, the CLI calls :func:`validate_create`,
so one rule lives in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from iso3166 import countries_by_alpha2

from hermes_ca_tui.core.errors import CaError, Code, FieldError

MAX_NAME_LENGTH = 64
"""OpenSSL refuses CN/O/OU longer than 64 characters (X.520 ub-name)."""

KEY_SIZES = (4096, 2048)
"""Allowed RSA key sizes, recommended first."""

VALIDITY_YEARS = (5, 4, 3, 2, 1)
"""Allowed CA lifetimes in years, recommended first."""

DAYS_PER_YEAR = 365
"""The web page's year: its validity select offers 1825, 1460, 1095, 730 and 365 days."""

# ASCII only, exactly like the web page's classes. re.ASCII keeps \d-style shortcuts out.
_CN = re.compile(r"[A-Za-z0-9 ]+", re.ASCII)
_ORG = re.compile(r"[A-Za-z0-9, ]+", re.ASCII)
_UNIT = re.compile(r"[_A-Za-z0-9 ]+", re.ASCII)
_STATE = re.compile(r"[A-Za-z ]+", re.ASCII)
_LETTERS = re.compile(r"[A-Za-z]+", re.ASCII)


@dataclass(frozen=True)
class CreateRequest:
    """What an operator asks for when creating an internal CA.

    Values are taken as typed; :func:`normalise_create` trims them and upper-cases the
    country. ``key_size`` and ``years`` accept strings from forms and argv.
    """

    common_name: str
    organization: str
    unit: str
    state: str
    country: str
    key_size: int | str = 4096
    years: int | str = 5
    make_default: bool = False


def _text_rule(
    pattern: re.Pattern[str], empty: Code, charset: Code, too_long: Code
) -> Callable[[str], FieldError | None]:
    def check(value: str) -> FieldError | None:
        text = value.strip()
        if not text:
            return FieldError("", empty)
        if not pattern.fullmatch(text):
            return FieldError("", charset)
        if len(text) > MAX_NAME_LENGTH:
            return FieldError("", too_long, {"max": MAX_NAME_LENGTH})
        return None

    return check


def _named(
    field_name: str, rule: Callable[[str], FieldError | None]
) -> Callable[[str], FieldError | None]:
    def check(value: str) -> FieldError | None:
        failure = rule(value)
        return replace(failure, field=field_name) if failure else None

    return check


check_common_name = _named(
    "common_name", _text_rule(_CN, Code.CN_EMPTY, Code.CN_CHARSET, Code.CN_TOO_LONG)
)
"""CN: letters, digits and spaces, 1–64 characters after trimming (m=1, m=2)."""

check_organization = _named(
    "organization", _text_rule(_ORG, Code.ORG_EMPTY, Code.ORG_CHARSET, Code.ORG_TOO_LONG)
)
"""O: letters, digits, spaces and commas (m=9, m=10)."""

check_unit = _named(
    "unit", _text_rule(_UNIT, Code.UNIT_EMPTY, Code.UNIT_CHARSET, Code.UNIT_TOO_LONG)
)
"""OU: letters, digits, spaces and underscores (m=11, m=12)."""

check_state = _named(
    "state", _text_rule(_STATE, Code.STATE_EMPTY, Code.STATE_CHARSET, Code.STATE_TOO_LONG)
)
"""ST: letters and spaces (m=13, m=14)."""

check_import_name = _named(
    "name",
    _text_rule(_CN, Code.IMPORT_NAME_EMPTY, Code.IMPORT_NAME_CHARSET, Code.IMPORT_NAME_TOO_LONG),
)
"""Import name: same class as the CN (m=30, m=31)."""


def check_country(value: str) -> FieldError | None:
    """C: two ASCII letters (m=15, m=16) naming an ISO 3166-1 alpha-2 country."""
    text = value.strip()
    if len(text) != 2:
        return FieldError("country", Code.COUNTRY_LENGTH)
    if not _LETTERS.fullmatch(text):
        return FieldError("country", Code.COUNTRY_CHARSET)
    if text.upper() not in countries_by_alpha2:
        return FieldError("country", Code.COUNTRY_UNKNOWN, {"value": text.upper()})
    return None


def _as_int(value: int | str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if re.fullmatch(r"[0-9]{1,6}", text, re.ASCII) else None


def check_key_size(value: int | str) -> FieldError | None:
    """Key size: 2048 or 4096 bits (the web page never checked it; AF §7.1)."""
    return None if _as_int(value) in KEY_SIZES else FieldError("key_size", Code.KEY_SIZE_INVALID)


def check_years(value: int | str) -> FieldError | None:
    """Validity: a whole number of years from 1 to 5."""
    return None if _as_int(value) in VALIDITY_YEARS else FieldError("years", Code.VALIDITY_INVALID)


def validate_create(request: CreateRequest) -> list[FieldError]:
    """Check every create field, in the web page's order.

    Args:
        request: The raw request.

    Returns:
        Every failure, first one first; empty when the request is valid. Uniqueness is
        not checked here: it needs the database (see the create operation).
    """
    checks: list[FieldError | None] = [
        check_common_name(request.common_name),
        check_organization(request.organization),
        check_unit(request.unit),
        check_state(request.state),
        check_country(request.country),
        check_key_size(request.key_size),
        check_years(request.years),
    ]
    return [failure for failure in checks if failure is not None]


def normalise_create(request: CreateRequest) -> CreateRequest:
    """Return a valid request trimmed and with the country upper-cased.

    Raises:
        CaError: The first failing field, as the web page would report it.
    """
    failures = validate_create(request)
    if failures:
        raise failures[0].to_error()
    key_size = _as_int(request.key_size)
    years = _as_int(request.years)
    assert key_size is not None and years is not None  # validated above
    return CreateRequest(
        common_name=request.common_name.strip(),
        organization=request.organization.strip(),
        unit=request.unit.strip(),
        state=request.state.strip(),
        country=request.country.strip().upper(),
        key_size=key_size,
        years=years,
        make_default=request.make_default,
    )


def normalise_import_name(name: str) -> str:
    """Return the trimmed import name, or raise the web page's error for it."""
    failure = check_import_name(name)
    if failure:
        raise failure.to_error()
    return name.strip()


def same_name(a: str, b: str) -> bool:
    """Compare CA names as the appliance's latin1_swedish_ci column does for ASCII.

    Case is ignored and trailing spaces do not count.
    """
    return a.rstrip(" ").casefold() == b.rstrip(" ").casefold()


def require(failure: FieldError | None) -> None:
    """Raise the failure, if any."""
    if failure is not None:
        raise CaError(failure.code, field=failure.field, **failure.params)
