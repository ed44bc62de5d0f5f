"""Who a site lists (the prober's ownership check) and the greylisting re-prober's bounds
(issue 8 §3–5); no network."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from leadsonar.providers.base import Confidence, Finding, Person, Verification
from leadsonar.providers.builtin.reprobe import MAX_DELAY, Reprober
from leadsonar.providers.builtin.roster import ListedPeople, SiteRoster, listed_from_site

TEAM = ListedPeople(
    (("Jane", "Smith"), ("Daniel", "Moreau"), ("Daniel J.", "Moreau"), ("Anna", "Berg"))
)


def test_a_site_with_three_names_lists_its_team() -> None:
    assert TEAM.team
    assert not ListedPeople((("Jane", "Smith"), ("Anna", "Berg"))).team


def test_listed_people_are_matched_by_name_and_middle_initial() -> None:
    assert TEAM.lists(Person("jane", "SMITH"))
    assert TEAM.lists(Person("Daniel J.", "Moreau"))
    assert not TEAM.lists(Person("John", "Smith"))
    # a site may leave middle initials out: a plain listed name is the person, a different
    # listed middle initial is not
    assert TEAM.lists(Person("Daniel K.", "Moreau"))
    assert not ListedPeople((("Daniel J.", "Moreau"),)).lists(Person("Daniel K.", "Moreau"))


def test_an_address_another_listed_person_makes_is_theirs() -> None:
    assert TEAM.others_at(Person("John", "Smith"), "jsmith", "flast") == ["Jane Smith"]
    assert TEAM.others_at(Person("Jane", "Smith"), "jsmith", "flast") == []
    # two listed Daniel Moreaus: the plain address is the plain one's
    assert TEAM.others_at(Person("Daniel J.", "Moreau"), "daniel.moreau", "first.last") == [
        "Daniel Moreau"
    ]
    assert TEAM.others_at(Person("Daniel", "Moreau"), "daniel.moreau", "first.last") == []


def test_the_crawls_listed_people_come_from_its_people_else_from_owners() -> None:
    people = SimpleNamespace(people=[{"name": "Jane Smith"}, "Dr. Anna Berg", {"name": "Solo"}])
    assert listed_from_site(people) == ListedPeople((("Jane", "Smith"), ("Anna", "Berg")))
    owners = SimpleNamespace(
        emails=[
            {"address": "info@x.test", "owner": None},
            {"address": "j@x.test", "owner": "Jane Smith"},
        ],
        phones=[
            {"value": "+4930", "owner": "Jane Smith"},
            {"value": "+4931", "owner": "Tom Krause"},
        ],
    )
    assert listed_from_site(owners) == ListedPeople((("Jane", "Smith"), ("Tom", "Krause")))
    assert listed_from_site(SimpleNamespace(emails=[], phones=[])) is None


@pytest.mark.asyncio
async def test_a_site_that_cannot_be_read_lists_nobody() -> None:
    class Broken:
        async def site(self, domain: str) -> object:
            raise OSError("unreachable")

    assert await SiteRoster(Broken()).listed_people("x.test") is None


ADA = Person("Ada", "Lovelace")
FOUND = Finding("ada@x.test", Confidence.HIGH, Verification.VALID, evidence={"rcpts": 1})


@pytest.mark.asyncio
async def test_a_re_probe_runs_after_its_delay_and_keeps_its_answer() -> None:
    reprober = Reprober()
    calls: list[str] = []

    async def work() -> Finding | None:
        calls.append("probe")
        return FOUND

    assert reprober.schedule("x.test", ADA, 0.01, work)
    assert not reprober.schedule("x.test", Person("ADA ", "lovelace"), 0.01, work)  # pending
    assert reprober.answer("x.test", ADA) is None
    await reprober.wait()
    assert calls == ["probe"]
    answer = reprober.answer("x.test", Person("ada", "LOVELACE"))
    assert answer is not None and answer.value == "ada@x.test"
    answer.evidence["changed"] = True  # a copy: the kept answer is not changed by callers
    assert "changed" not in (reprober.answer("x.test", ADA) or FOUND).evidence
    await reprober.aclose()


@pytest.mark.asyncio
async def test_the_re_prober_is_bounded_and_closes_cleanly() -> None:
    reprober = Reprober()
    started = asyncio.Event()

    async def work() -> Finding | None:
        started.set()
        return None

    assert not reprober.schedule("x.test", ADA, MAX_DELAY + 1, work)  # too long to wait for
    assert reprober.schedule("x.test", ADA, 60.0, work)
    await reprober.aclose()
    assert reprober.pending == 0 and not started.is_set()
    assert not reprober.schedule("y.test", ADA, 0.0, work)  # closed
