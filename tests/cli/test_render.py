"""The CLI's text formatting: pure functions of what the core returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from hermes_ca_tui.cli import render
from hermes_ca_tui.core.doctor import DoctorReport
from hermes_ca_tui.core.findings import Finding, FindingCode
from hermes_ca_tui.core.trust.state import TrustState
from hermes_ca_tui.core.views import CaSummary

BASE = CaSummary(
    id=7,
    name="Alpha Root",
    directory="AlphaRoot",
    imported=False,
    expires=date(2031, 12, 2),
    days_left=1825,
    key_bits=4096,
    default=True,
    issued=3,
    trust=TrustState.TRUSTED,
    serial="0A",
    sha256="AA:BB",
    sha1="CC:DD",
)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (1825, "2031-12-02"),
        (90, "2031-12-02"),
        (89, "2031-12-02 (89 days)"),
        (1, "2031-12-02 (1 days)"),
        (0, "2031-12-02 (0 days)"),
        (-1, "2031-12-02 (Expired)"),
        (-400, "2031-12-02 (Expired)"),
        (None, "2031-12-02"),
    ],
)
def test_expiry_gets_a_days_suffix_under_90_days_and_expired_after(
    days_left: int | None, expected: str
) -> None:
    assert render.expires_text(replace(BASE, days_left=days_left)) == expected


def test_an_unknown_expiry_shows_a_question_mark() -> None:
    assert render.expires_text(replace(BASE, expires=None, days_left=None)) == "?"


def test_the_table_says_so_when_there_is_no_ca() -> None:
    assert render.ca_table([]) == "No Certificate Authorities found. Create or import one."


def test_the_table_shows_each_column_of_the_list_contract() -> None:
    other = replace(
        BASE,
        id=12,
        name="Imported Sub CA",
        imported=True,
        default=False,
        key_bits=None,
        issued=0,
        days_left=10,
        trust=TrustState.MISSING,
        problem="certificate missing or unreadable",
    )

    lines = render.ca_table([BASE, other]).splitlines()

    assert lines[0].split() == [
        "ID",
        "NAME",
        "TYPE",
        "EXPIRES",
        "KEY",
        "DEFAULT",
        "ISSUED",
        "TRUST",
    ]
    assert set(lines[1].replace(" ", "")) == {"-"}
    first, second = lines[2], lines[3]
    assert first.split()[:4] == ["7", "Alpha", "Root", "Internal"]
    assert "4096-bit" in first and "YES" in first and first.endswith("trusted")
    assert "Imported" in second and "N/A" in second and "YES" not in second
    assert "(10 days)" in second
    assert second.endswith("missing (certificate missing or unreadable)")


def test_table_columns_line_up_under_their_headers() -> None:
    rows = [BASE, replace(BASE, id=100, name="A much longer CA name", default=False)]

    lines = render.ca_table(rows).splitlines()

    start = lines[0].index("TYPE")
    assert all(line[start:].startswith("Internal") for line in lines[2:])
    start = lines[0].index("ISSUED")
    assert [line[start] for line in lines[2:]] == ["3", "3"]


def test_a_clean_doctor_report_says_how_many_cas_were_checked() -> None:
    text = render.doctor_report(DoctorReport((), 4))
    assert text == "All 4 CA(s) consistent across the three stores."


def test_a_doctor_report_shows_a_fix_only_for_repairable_findings() -> None:
    report = DoctorReport(
        (
            Finding(
                FindingCode.PERMISSIONS,
                "Alpha Root",
                7,
                True,
                {"path": "/x/cakey.pem", "mode": "0644", "expected": "0600"},
            ),
            Finding(FindingCode.KEY_MISSING, "Beta Root", 8, False, {"path": "/y/cakey.pem"}),
        ),
        2,
    )

    lines = render.doctor_report(report).splitlines()

    assert lines == [
        "[PERMISSIONS] Alpha Root: /x/cakey.pem has mode 0644; it must be 0600. (repairable)",
        "    fix: chmod 0600 /x/cakey.pem",
        "[KEY_MISSING] Beta Root: The CA private key is missing: /y/cakey.pem. (manual)",
    ]
