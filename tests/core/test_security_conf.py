"""The ALLOW_CA_DOWNLOAD switch in security.conf, parsed line by line (AF §8, PRODUCT §3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_ca_tui.core.security_conf import (
    CA_DOWNLOAD_KEY,
    DEFAULT_CONTENT,
    download_gate,
    read_setting,
)

FAST = settings(max_examples=60, deadline=None)

SHIPPED = """\
# This file controls security-sensitive features (Default: no).
ALLOW_CERT_DOWNLOAD=no
{line}
ALLOW_MESSAGE_CONTENT=no
ALLOW_ATTACHMENT_DOWNLOAD=no
"""


def gate_for(folder: Path, content: str | bytes) -> bool:
    path = folder / "security.conf"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return download_gate(path).allowed


@pytest.mark.parametrize(
    "line",
    [
        "ALLOW_CA_DOWNLOAD=yes",
        "ALLOW_CA_DOWNLOAD=YES",
        "ALLOW_CA_DOWNLOAD=Yes",
        "ALLOW_CA_DOWNLOAD=yEs",
        "ALLOW_CA_DOWNLOAD = yes",
        "ALLOW_CA_DOWNLOAD\t=\tyes",
        "ALLOW_CA_DOWNLOAD=yes   ",
        "   ALLOW_CA_DOWNLOAD=yes",
    ],
)
def test_exactly_yes_in_any_case_with_whitespace_around_the_equals_sign_enables(
    tmp_path: Path, line: str
) -> None:
    assert gate_for(tmp_path, SHIPPED.format(line=line))


@pytest.mark.parametrize(
    "line",
    [
        "#ALLOW_CA_DOWNLOAD=yes",
        "# ALLOW_CA_DOWNLOAD=yes",
        "   # ALLOW_CA_DOWNLOAD=yes",
        "ALLOW_CA_DOWNLOAD=yesno",
        "ALLOW_CA_DOWNLOAD=yes please",
        "ALLOW_CA_DOWNLOAD=yes # enabled for the backup",
        "ALLOW_CA_DOWNLOAD=y",
        "ALLOW_CA_DOWNLOAD=true",
        "ALLOW_CA_DOWNLOAD=1",
        "ALLOW_CA_DOWNLOAD=on",
        "ALLOW_CA_DOWNLOAD=no",
        "ALLOW_CA_DOWNLOAD=",
        "ALLOW_CA_DOWNLOAD yes",
        "ALLOW_CA_DOWNLOADyes",
        "ALLOW_CA_DOWNLOADS=yes",
        "XALLOW_CA_DOWNLOAD=yes",
        "allow_ca_download=yes",
        "ALLOW_CERT_DOWNLOAD=yes",
        "export ALLOW_CA_DOWNLOAD=yes",
        "ALLOW_CA_DOWNLOAD='yes",
        "ALLOW_CA_DOWNLOAD=\"yes'",
        'ALLOW_CA_DOWNLOAD=" yes "',
    ],
)
def test_anything_but_an_exact_yes_on_the_exact_key_does_not_enable(
    tmp_path: Path, line: str
) -> None:
    assert not gate_for(tmp_path, SHIPPED.format(line=line))


@pytest.mark.parametrize("line", ['ALLOW_CA_DOWNLOAD="yes"', "ALLOW_CA_DOWNLOAD='YES'"])
def test_shell_quotes_around_yes_are_read_as_the_shell_would(tmp_path: Path, line: str) -> None:
    assert gate_for(tmp_path, SHIPPED.format(line=line))


@pytest.mark.parametrize(
    ("content", "allowed"),
    [
        ("ALLOW_CA_DOWNLOAD=yes\nALLOW_CA_DOWNLOAD=no\n", False),
        ("ALLOW_CA_DOWNLOAD=no\nALLOW_CA_DOWNLOAD=yes\n", True),
        ("ALLOW_CA_DOWNLOAD=yes\nALLOW_CA_DOWNLOAD=\n", False),
        ("ALLOW_CA_DOWNLOAD=yes\nALLOW_CA_DOWNLOAD=yesno\n", False),
        ("ALLOW_CA_DOWNLOAD=yes\n#ALLOW_CA_DOWNLOAD=no\n", True),
        ("ALLOW_CA_DOWNLOAD=no\n# ALLOW_CA_DOWNLOAD=yes\n", False),
        ("ALLOW_CA_DOWNLOAD=yes\nALLOW_CERT_DOWNLOAD=no\n", True),
    ],
)
def test_the_last_uncommented_occurrence_wins(tmp_path: Path, content: str, allowed: bool) -> None:
    assert gate_for(tmp_path, content) is allowed


def test_windows_line_endings_are_read_like_unix_ones(tmp_path: Path) -> None:
    assert gate_for(tmp_path, b"# header\r\nALLOW_CA_DOWNLOAD=yes\r\n")
    assert not gate_for(tmp_path, b"ALLOW_CA_DOWNLOAD=yes\r\nALLOW_CA_DOWNLOAD=no\r\n")


def test_a_file_that_is_not_utf8_is_still_parsed(tmp_path: Path) -> None:
    assert gate_for(tmp_path, b"# Gr\xfc\xdfe \xff\xfe\nALLOW_CA_DOWNLOAD=yes\n")


def test_a_missing_file_means_no_and_says_the_file_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "security.conf"
    gate = download_gate(path)
    assert not gate.allowed
    assert gate.path == path
    assert "does not exist" in gate.reason
    assert str(path) in gate.reason


def test_an_unreadable_path_means_no(tmp_path: Path) -> None:
    folder = tmp_path / "security.conf"
    folder.mkdir()
    (folder / CA_DOWNLOAD_KEY).write_text("yes")
    assert not download_gate(folder).allowed
    under_a_file = tmp_path / "plain"
    under_a_file.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    assert not download_gate(under_a_file / "security.conf").allowed


def test_a_file_without_the_key_means_no_and_says_it_is_not_set(tmp_path: Path) -> None:
    path = tmp_path / "security.conf"
    path.write_text("ALLOW_CERT_DOWNLOAD=yes\n")
    gate = download_gate(path)
    assert not gate.allowed
    assert "not set" in gate.reason


def test_the_reason_names_the_value_that_was_read(tmp_path: Path) -> None:
    path = tmp_path / "security.conf"
    path.write_text("ALLOW_CA_DOWNLOAD=true\n")
    assert download_gate(path).reason == f"ALLOW_CA_DOWNLOAD=true in {path}"
    path.write_text("ALLOW_CA_DOWNLOAD=YES\n")
    assert download_gate(path).reason == f"ALLOW_CA_DOWNLOAD=yes in {path}"


def test_the_shipped_default_file_disables_downloads(tmp_path: Path) -> None:
    path = tmp_path / "security.conf"
    path.write_bytes(DEFAULT_CONTENT)
    assert read_setting(path, CA_DOWNLOAD_KEY) == "no"
    assert not download_gate(path).allowed


def test_the_switch_is_read_again_at_every_call(tmp_path: Path) -> None:
    path = tmp_path / "security.conf"
    path.write_text("ALLOW_CA_DOWNLOAD=yes\n")
    assert download_gate(path).allowed
    path.write_text("ALLOW_CA_DOWNLOAD=no\n")
    assert not download_gate(path).allowed
    path.unlink()
    assert not download_gate(path).allowed


def test_read_setting_reads_other_keys_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "security.conf"
    path.write_text("ALLOW_CERT_DOWNLOAD = yes\n#ALLOW_CERT_DOWNLOAD=no\nOTHER=1\n")
    assert read_setting(path, "ALLOW_CERT_DOWNLOAD") == "yes"
    assert read_setting(path, "OTHER") == "1"
    assert read_setting(path, "MISSING") is None


# Characters that end a line for str.splitlines() are left out: a value is one line.
VALUE_CHARS = st.characters(
    exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\"'", exclude_categories=["Cs"]
)


@FAST
@given(value=st.text(alphabet=VALUE_CHARS, max_size=12))
def test_any_value_that_is_not_yes_does_not_enable(
    tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    if value.strip().lower() == "yes":
        return
    folder = tmp_path_factory.mktemp("conf")
    assert not gate_for(folder, f"ALLOW_CA_DOWNLOAD={value}\n")


@FAST
@given(
    flips=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    before=st.text(alphabet=" \t", max_size=3),
    after=st.text(alphabet=" \t", max_size=3),
)
def test_yes_in_any_case_with_any_spaces_or_tabs_around_it_enables(
    tmp_path_factory: pytest.TempPathFactory,
    flips: tuple[bool, bool, bool],
    before: str,
    after: str,
) -> None:
    word = "".join(c.upper() if up else c for c, up in zip("yes", flips, strict=True))
    folder = tmp_path_factory.mktemp("conf")
    assert gate_for(folder, f"ALLOW_CA_DOWNLOAD{before}={after}{word}{before}\n")
