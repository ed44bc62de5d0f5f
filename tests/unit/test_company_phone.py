"""Issue 8 §2: the company's main line is never a person's ``phone``. The waterfall keeps an
``office`` finding (a switchboard, a provider's ``work_hq`` number) as
``WaterfallResult.company_phone``, goes on asking for the person's own number, and never
answers with the switchboard (scripted provider fake, no network)."""

from __future__ import annotations

import pytest

from leadsonar.providers.base import Company, Confidence, Finding, Person, Verification
from leadsonar.providers.registry import ProviderRegistry, parse_order
from leadsonar.testing.providers import ScriptedProvider
from leadsonar.waterfall.engine import Waterfall

pytestmark = pytest.mark.asyncio

LI = Person("Li", "Kowalczyk")
ACME = Company("acme.example", "Acme")
SWITCHBOARD = "+14155550100"
DIRECT = "+14155550142"


def line(
    value: str, kind: str, confidence: Confidence = Confidence.LOW, **evidence: str
) -> Finding:
    return Finding(
        value=value,
        confidence=confidence,
        verification=Verification.PUBLISHED,
        kind=kind,
        evidence=dict(evidence),
    )


def waterfall(*providers: ScriptedProvider) -> Waterfall:
    names = ",".join(p.name for p in providers)
    registry = ProviderRegistry(
        {p.name: p for p in providers}, parse_order(f"email=;phone={names}")
    )
    return Waterfall(registry, provider_timeout=1.0, deadline=5.0)


async def test_a_switchboard_alone_is_company_phone_and_no_answer() -> None:
    site = ScriptedProvider("website", phone=[line(SWITCHBOARD, "office")])
    result = await waterfall(site).run("phone", LI, ACME)
    assert result.finding is None and result.sources == 0
    assert result.company_phone == SWITCHBOARD


async def test_the_cascade_goes_on_after_a_switchboard_and_keeps_both() -> None:
    """A paid provider's ``work_hq`` line is the company's too; the next one's direct dial is
    the answer and the switchboard stays beside it."""
    hq = ScriptedProvider(
        "apollo", cost=1.0, phone=[line(SWITCHBOARD, "office", Confidence.MEDIUM)]
    )
    person = ScriptedProvider("lusha", cost=1.0, phone=[line(DIRECT, "direct", Confidence.MEDIUM)])
    result = await waterfall(hq, person).run("phone", LI, ACME)
    assert person.calls["phone"] == 1
    assert result.finding is not None and result.finding.value == DIRECT
    assert result.finding.kind == "direct" and result.company_phone == SWITCHBOARD


async def test_a_finding_may_name_the_company_line_in_its_evidence() -> None:
    own = line(DIRECT, "mobile", Confidence.MEDIUM, company_phone=SWITCHBOARD)
    result = await waterfall(ScriptedProvider("website", phone=[own])).run("phone", LI, ACME)
    assert result.finding is not None and result.finding.value == DIRECT
    assert result.company_phone == SWITCHBOARD


async def test_company_phone_is_never_the_answer_itself() -> None:
    own = line(DIRECT, "direct", Confidence.MEDIUM, company_phone=DIRECT)
    result = await waterfall(ScriptedProvider("website", phone=[own])).run("phone", LI, ACME)
    assert result.finding is not None and result.company_phone is None


async def test_an_extension_of_the_main_line_keeps_the_main_line_beside_it() -> None:
    own = line(f"{SWITCHBOARD};ext=85", "direct", Confidence.MEDIUM, company_phone=SWITCHBOARD)
    result = await waterfall(ScriptedProvider("website", phone=[own])).run("phone", LI, ACME)
    assert result.finding is not None and result.finding.value == f"{SWITCHBOARD};ext=85"
    assert result.company_phone == SWITCHBOARD


async def test_emails_are_untouched_by_the_office_rule() -> None:
    registry = ProviderRegistry(
        {"p": ScriptedProvider("p", email=[line("li@acme.example", "office", Confidence.MEDIUM)])},
        parse_order("email=p;phone="),
    )
    result = await Waterfall(registry, provider_timeout=1.0, deadline=5.0).run("email", LI, ACME)
    assert result.finding is not None and result.company_phone is None


async def test_a_provider_calling_the_known_switchboard_a_direct_dial_is_not_answered() -> None:
    site = ScriptedProvider("website", phone=[line(SWITCHBOARD, "office")])
    wrong = ScriptedProvider(
        "paid", cost=1.0, phone=[line(SWITCHBOARD, "direct", Confidence.MEDIUM)]
    )
    result = await waterfall(site, wrong).run("phone", LI, ACME)
    assert result.finding is None and result.company_phone == SWITCHBOARD


async def test_type_is_direct_or_mobile_from_the_range_when_the_source_gives_neither() -> None:
    from leadsonar.lookup.service import phone_type

    untyped = Finding(value="+447700900123", confidence=Confidence.MEDIUM)
    assert phone_type(untyped) == "mobile"
    assert phone_type(Finding(value="+442079460321", confidence=Confidence.MEDIUM)) == "direct"
    assert phone_type(line(DIRECT, "mobile", Confidence.MEDIUM)) == "mobile"
