"""set-default: exactly one default after every call, by id or by name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile
from hermes_ca_tui.core.views import CaDetails
from tests.core.lifecycle import (
    assert_unchanged,
    audit_records,
    ca_rows,
    default_ids,
    execute,
    snapshot,
)

MakeCa = Callable[..., CaDetails]


@pytest.fixture
def three(make_ca: MakeCa) -> dict[str, int]:
    """Alpha (the default, created first), Bravo and Charlie."""
    return {name: make_ca(f"{name} CA").summary.id for name in ("Alpha", "Bravo", "Charlie")}


def assert_only_default(profile: Profile, ca_id: int) -> None:
    assert default_ids(profile) == [ca_id]
    values = {r["id"]: r["default2"] for r in ca_rows(profile)}
    assert values == {i: (1 if i == ca_id else 2) for i in values}


def test_set_default_by_id_leaves_exactly_one_default(
    profile: Profile, service: CaService, three: dict[str, int]
) -> None:
    assert_only_default(profile, three["Alpha"])
    details = service.set_default(three["Bravo"])
    assert details.summary.default
    assert_only_default(profile, three["Bravo"])
    service.set_default(str(three["Charlie"]))
    assert_only_default(profile, three["Charlie"])


@pytest.mark.parametrize("ref", ["Bravo CA", "bravo ca", "BRAVO CA", "  Bravo CA  ", "bRaVo Ca"])
def test_set_default_by_name_ignores_case_and_surrounding_spaces(
    profile: Profile, service: CaService, three: dict[str, int], ref: str
) -> None:
    details = service.set_default(ref)
    assert details.summary.id == three["Bravo"]
    assert_only_default(profile, three["Bravo"])


def test_every_call_in_a_sequence_leaves_exactly_one_default(
    profile: Profile, service: CaService, three: dict[str, int]
) -> None:
    for name in ("Charlie", "Alpha", "Charlie", "Bravo", "Bravo", "Alpha"):
        service.set_default(f"{name} CA")
        assert_only_default(profile, three[name])


def test_setting_the_current_default_again_keeps_it(
    profile: Profile, service: CaService, three: dict[str, int]
) -> None:
    service.set_default("Alpha CA")
    assert_only_default(profile, three["Alpha"])


@pytest.mark.parametrize("ref", ["Delta CA", "999", 999, "Alpha", "Alpha CA x", ""])
def test_unknown_ca_is_refused_and_the_default_stays(
    profile: Profile, service: CaService, three: dict[str, int], ref: str | int
) -> None:
    before = snapshot(profile)
    with pytest.raises(CaError) as caught:
        service.set_default(ref)
    assert caught.value.code is Code.CA_NOT_FOUND
    assert_only_default(profile, three["Alpha"])
    assert_unchanged(before, snapshot(profile))


def test_a_numeric_name_is_found_when_no_id_matches(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    make_ca("Alpha CA")
    numbered = make_ca("2024").summary.id
    assert numbered != 2024
    service.set_default("2024")
    assert_only_default(profile, numbered)


def test_an_id_wins_over_a_name_that_looks_like_it(
    profile: Profile, service: CaService, make_ca: MakeCa
) -> None:
    first = make_ca("Alpha CA").summary.id
    second = make_ca("1").summary.id  # a CA *named* "1", while id 1 is Alpha
    assert first == 1
    service.set_default(second)
    service.set_default("1")
    assert_only_default(profile, first)


def test_set_default_repairs_a_table_with_no_default(
    profile: Profile, service: CaService, three: dict[str, int]
) -> None:
    execute(profile.hermes_url, "UPDATE ca_settings SET default2 = 2")
    service.set_default("Charlie CA")
    assert_only_default(profile, three["Charlie"])


def test_set_default_is_audited_with_the_previous_default(
    profile: Profile, service: CaService, three: dict[str, int]
) -> None:
    service.set_default("Bravo CA")
    records = [r for r in audit_records(profile) if r["operation"] == "set-default"]
    assert len(records) == 1
    assert records[0]["outcome"] == "ok"
    assert records[0]["ca"] == {"id": three["Bravo"], "name": "Bravo CA"}
    assert records[0]["details"]["previous"] == [three["Alpha"]]


def test_set_default_changes_nothing_but_default2(
    profile: Profile, service: CaService, three: dict[str, int]
) -> None:
    before = snapshot(profile, skip=("audit.jsonl",))
    rows_before = ca_rows(profile)
    service.set_default("Charlie CA")
    after = snapshot(profile, skip=("audit.jsonl",))
    assert after.files == before.files
    assert after.djigzo == before.djigzo
    rows_after = ca_rows(profile)
    assert [{k: v for k, v in r.items() if k != "default2"} for r in rows_after] == [
        {k: v for k, v in r.items() if k != "default2"} for r in rows_before
    ]
    assert [r["default2"] for r in rows_after] == [2, 2, 1]
