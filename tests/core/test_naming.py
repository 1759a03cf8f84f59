"""CA folder names: the appliance's sanitising rule, made collision-free (AF §3.1, §7.4)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_ca_tui.core.naming import choose_directory, sanitise

FAST = settings(max_examples=60, deadline=None)
ALNUM = string.ascii_letters + string.digits


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("My Root CA", "MyRootCA"),
        ("MyRootCA", "MyRootCA"),
        ("  Acme, Inc_Root  CA 2 ", "AcmeIncRootCA2"),
        ("Grüße CA", "GreCA"),
        ("../../etc/passwd", "etcpasswd"),
        ("Root\x00CA\n", "RootCA"),
        ("", ""),
        (" ,_- ", ""),
    ],
)
def test_sanitise_removes_every_character_outside_ascii_letters_and_digits(
    name: str, folder: str
) -> None:
    assert sanitise(name) == folder


@FAST
@given(name=st.text(max_size=80))
def test_sanitise_keeps_exactly_the_ascii_letters_and_digits_in_order(name: str) -> None:
    assert sanitise(name) == "".join(c for c in name if c in ALNUM)


def test_sanitise_keeps_case() -> None:
    assert sanitise("my root ca") == "myrootca"
    assert sanitise("MY ROOT CA") == "MYROOTCA"


def test_choose_directory_uses_the_sanitised_name_when_it_is_free() -> None:
    asked: list[str] = []

    def taken(folder: str) -> bool:
        asked.append(folder)
        return False

    assert choose_directory("My Root CA", taken) == "MyRootCA"
    assert asked == ["MyRootCA"]


def test_choose_directory_adds_the_smallest_free_suffix_from_two() -> None:
    assert choose_directory("My CA", {"MyCA"}.__contains__) == "MyCA2"
    assert choose_directory("My CA", {"MyCA", "MyCA2"}.__contains__) == "MyCA3"
    assert choose_directory("My CA", {"MyCA", "MyCA3"}.__contains__) == "MyCA2"


def test_two_names_that_sanitise_alike_get_two_folders() -> None:
    used: set[str] = set()
    first = choose_directory("My CA", used.__contains__)
    used.add(first)
    second = choose_directory("MyCA", used.__contains__)
    used.add(second)
    third = choose_directory("My-CA", used.__contains__)
    assert [first, second, third] == ["MyCA", "MyCA2", "MyCA3"]


def test_a_name_with_no_letters_or_digits_still_gets_a_folder() -> None:
    assert choose_directory(" ,_ ", lambda _: False) == "CA"
    assert choose_directory(" ,_ ", {"CA"}.__contains__) == "CA2"


@FAST
@given(
    name=st.text(alphabet=ALNUM + " ,_", min_size=1, max_size=30),
    taken_suffixes=st.sets(st.one_of(st.none(), st.integers(1, 40))),
    other=st.sets(st.text(alphabet=ALNUM, min_size=1, max_size=8), max_size=10),
)
def test_choose_directory_never_returns_a_taken_folder(
    name: str, taken_suffixes: set[int | None], other: set[str]
) -> None:
    base = sanitise(name) or "CA"
    taken = {base if s is None else f"{base}{s}" for s in taken_suffixes} | other
    chosen = choose_directory(name, taken.__contains__)
    assert chosen not in taken
    if base not in taken:
        assert chosen == base
    else:
        suffix = int(chosen.removeprefix(base))
        assert suffix >= 2
        # The smallest free suffix: every smaller one from 2 is taken.
        assert all(f"{base}{n}" in taken for n in range(2, suffix))


@FAST
@given(names=st.lists(st.text(alphabet="ab -", min_size=1, max_size=4), max_size=25))
def test_registering_folders_one_after_another_never_reuses_one(names: list[str]) -> None:
    used: set[str] = set()
    for name in names:
        folder = choose_directory(name, used.__contains__)
        assert folder not in used
        assert folder.isascii() and folder.isalnum()
        used.add(folder)
    assert len(used) == len(names)
