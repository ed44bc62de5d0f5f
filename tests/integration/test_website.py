"""The ``website`` provider on a loopback web world (real HTTP servers on 127.0.0.x, real DNS):
the crawl, its cache and pattern learning, and the provider's answers with their traps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from leadsonar.config import Settings
from leadsonar.domains.repository import learned_patterns
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.safe_http import SafeHttp
from leadsonar.providers.base import (
    Company,
    Confidence,
    LookupContext,
    Person,
    ProviderTimeout,
    ProviderUnavailable,
)
from leadsonar.providers.builtin.website import WebsiteProvider, crawl_site
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.webserver import LoopbackWeb, Response
from tests.integration.conftest import LOOPBACK
from tests.integration.web_world import build_world


def web_settings(dns: LoopbackDns, web: LoopbackWeb, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings that crawl the loopback web world: http on the world's port, no delay."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
        "dns_servers": [dns.address],
        "dns_timeout": 2.0,
        "allowed_private_networks": [LOOPBACK],
        "crawl_scheme": "http",
        "crawl_port": web.port,
        "crawl_delay": 0.0,
        "crawl_timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def web(dns_zone: LoopbackDns) -> AsyncIterator[LoopbackWeb]:
    async with LoopbackWeb() as server:
        await build_world(server, dns_zone)
        yield server


@pytest.fixture
async def provider(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> AsyncIterator[WebsiteProvider]:
    settings = web_settings(dns_zone, web, tmp_path)
    db = Database(settings.database_url)
    await upgrade_to_head(db.engine)
    resolver = Resolver.from_settings(settings)
    website = WebsiteProvider(settings, db, SafeHttp(settings, resolver))
    try:
        yield website
    finally:
        await website.aclose()
        await db.dispose()


async def _phone(provider: WebsiteProvider, first: str, last: str, domain: str) -> Any:
    """One find-phone lookup, persisting what it learned (the crawl it waited for) as the
    waterfall does when a lookup ends."""
    ctx = LookupContext()
    try:
        return await provider.find_phone(Person(first, last), Company(domain), ctx)
    finally:
        await provider.knowledge.persist(ctx.learned)


async def test_crawl_reads_home_and_people_pages_within_the_budget(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    settings = web_settings(dns_zone, web, tmp_path, crawl_max_pages=3)
    site = await crawl_site(SafeHttp(settings, Resolver.from_settings(settings)), "notion.so")
    assert len(site.pages) == 3
    fetched = web.paths("notion.so")
    assert fetched[0] == "/robots.txt" and fetched[1] == "/"
    assert set(fetched[2:]) <= {"/team", "/contact", "/about"}
    assert "/team" in fetched  # the team page ranks first
    assert "/careers" not in fetched and "/product" not in fetched
    assert site.title == "Notion – The all-in-one workspace" and site.site_name == "Notion"
    assert all("LeadSonar/" in r.user_agent for r in web.requests)


async def test_page_disallowed_by_robots_is_never_fetched_and_its_number_never_returned(
    provider: WebsiteProvider, web: LoopbackWeb
) -> None:
    finding = await _phone(provider, "Chris", "Park", "notion.so")
    assert "/private/board" not in web.paths("notion.so")
    assert finding is not None
    assert finding.value == "+14155550100" and finding.kind == "office"
    email = await provider.find_email(
        Person("Chris", "Park"), Company("notion.so"), LookupContext()
    )
    assert email is None


async def test_direct_dial_standing_with_the_name(provider: WebsiteProvider) -> None:
    finding = await _phone(provider, "Alex", "Johnson", "notion.so")
    assert finding is not None
    assert (finding.value, finding.kind, finding.confidence.value) == (
        "+14155550192",
        "direct",
        "medium",
    )
    assert finding.verification.value == "published"


async def test_unrelated_persons_number_is_not_returned(provider: WebsiteProvider) -> None:
    """Sam Lee publishes no number; Maria Lopez's and Alex Johnson's beside it are not his:
    the answer is the company's main line, typed office, with low confidence."""
    finding = await _phone(provider, "Sam", "Lee", "notion.so")
    assert finding is not None
    assert (finding.value, finding.kind, finding.confidence.value) == (
        "+14155550100",
        "office",
        "low",
    )


async def test_fax_and_support_lines_are_never_answers(provider: WebsiteProvider) -> None:
    site = await provider.site("notion.so")
    labels = {p["value"]: p["label"] for p in site.phones}
    assert labels["+14155550101"] == "fax"
    assert labels["+14155550111"] == "support"
    for first, last in (("Alex", "Johnson"), ("Sam", "Lee"), ("Nobody", "Here")):
        finding = await _phone(provider, first, last, "notion.so")
        assert finding is not None and finding.value not in ("+14155550101", "+14155550111")


async def test_fc25_norwegian_mobile_on_a_us_page(provider: WebsiteProvider) -> None:
    finding = await _phone(provider, "Ola", "Nordmann", "notion.so")
    assert finding is not None
    assert (finding.value, finding.kind) == ("+4740612345", "mobile")


async def test_fc26_date_ranges_are_not_phones(provider: WebsiteProvider) -> None:
    site = await provider.site("notion.so")
    assert "+12015032016" not in {p["value"] for p in site.phones}
    assert all(not p["value"].startswith("+1201") for p in site.phones)


async def test_published_addresses_answer_and_teach_the_pattern(
    provider: WebsiteProvider,
) -> None:
    ctx = LookupContext()  # what the lookups learned: persisted as the waterfall would
    finding = await provider.find_email(Person("Maria", "López"), Company("notion.so"), ctx)
    assert finding is not None
    assert finding.value == "maria.lopez@notion.so"  # FC-08: "[at]" / "[dot]"
    assert (finding.confidence.value, finding.verification.value) == ("medium", "published")
    alex = await provider.find_email(Person("Alex", "Johnson"), Company("notion.so"), ctx)
    assert alex is not None and alex.value == "alex.johnson@notion.so"  # FC-11 mailto
    await provider.site("notion.so", ctx.learned)  # the answers may come before the crawl ends
    await provider.knowledge.persist(ctx.learned)
    async with provider.db.session() as session:
        patterns = dict(await learned_patterns(session, "notion.so"))
    assert patterns.get("first.last", 0) >= 3  # Alex, Maria, Sam


async def test_role_address_is_never_a_persons(provider: WebsiteProvider) -> None:
    assert (
        await provider.find_email(Person("Hello", "World"), Company("notion.so"), LookupContext())
        is None
    )


async def test_crawl_is_cached_per_domain(provider: WebsiteProvider, web: LoopbackWeb) -> None:
    await _phone(provider, "Alex", "Johnson", "notion.so")
    before = len(web.requests)
    await _phone(provider, "Sam", "Lee", "notion.so")
    await provider.find_email(Person("Maria", "Lopez"), Company("notion.so"), LookupContext())
    assert len(web.requests) == before


async def test_concurrent_lookups_share_one_crawl(
    provider: WebsiteProvider, web: LoopbackWeb
) -> None:
    import asyncio

    await asyncio.gather(*(_phone(provider, "Alex", "Johnson", "notion.so") for _ in range(5)))
    assert web.paths("notion.so").count("/") == 1


async def test_expired_crawl_is_redone(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    settings = web_settings(dns_zone, web, tmp_path, crawl_ttl=0)
    db = Database(settings.database_url)
    await upgrade_to_head(db.engine)
    website = WebsiteProvider(settings, db, SafeHttp(settings, Resolver.from_settings(settings)))
    try:
        await _phone(website, "Alex", "Johnson", "notion.so")
        await _phone(website, "Alex", "Johnson", "notion.so")
    finally:
        await db.dispose()
    assert web.paths("notion.so").count("/") == 2


async def test_german_impressum_and_team_list(provider: WebsiteProvider) -> None:
    hanna = await _phone(provider, "Hanna", "Berg", "beispiel-gmbh.de")
    assert hanna is not None
    assert (hanna.value, hanna.kind) == ("+4930123456722", "direct")
    email = await provider.find_email(
        Person("Hanna", "Berg"), Company("beispiel-gmbh.de"), LookupContext()
    )
    assert email is not None and email.value == "hanna.berg@beispiel-gmbh.de"
    # The managing director is named above the switchboard: that line is the company's.
    director = await _phone(provider, "Jörg", "Grossmann", "beispiel-gmbh.de")
    assert director is not None
    assert (director.value, director.kind) == ("+493012345678", "office")
    site = await provider.site("beispiel-gmbh.de")
    values = {p["value"]: p for p in site.phones}
    assert values["+4915123456789"]["owner"] == "Hanna Berg"  # FC-27 0151/… on .de
    assert values["+493012345679"]["label"] == "fax"
    addresses = {e["address"] for e in site.emails}
    assert "vertrieb@beispiel-gmbh.de" in addresses  # FC-08 (at)/(dot)
    assert not any(a.startswith(".") or "..." in a for a in addresses)  # FC-09


async def test_french_equipe_page_and_linked_vcard(provider: WebsiteProvider) -> None:
    marie = await _phone(provider, "Marie", "Dupont", "exemple.fr")
    assert marie is not None and (marie.value, marie.kind) == ("+33142685301", "direct")
    elodie = await _phone(provider, "Elodie", "Marchand", "exemple.fr")
    assert elodie is not None and (elodie.value, elodie.kind) == ("+33612345678", "mobile")
    email = await provider.find_email(
        Person("Élodie", "Marchand"), Company("exemple.fr"), LookupContext()
    )
    assert email is not None and email.value == "elodie.marchand@exemple.fr"
    nobody = await _phone(provider, "Paul", "Martin", "exemple.fr")
    assert nobody is not None and (nobody.value, nobody.kind) == ("+33142685300", "office")


async def test_sitemap_json_ld_and_cloudflare(provider: WebsiteProvider, web: LoopbackWeb) -> None:
    dana = await _phone(provider, "Dana", "Whitfield", "sitemapped.test")
    assert dana is not None and (dana.value, dana.kind) == ("+12125550142", "direct")
    assert "/sitemap.xml" in web.paths("sitemapped.test")
    assert "/blog/hello" not in web.paths("sitemapped.test")
    email = await provider.find_email(
        Person("Dana", "Whitfield"), Company("sitemapped.test"), LookupContext()
    )
    assert email is not None and email.value == "dana.whitfield@sitemapped.test"
    site = await provider.site("sitemapped.test")
    assert "press@sitemapped.test" in {e["address"] for e in site.emails}
    office = await _phone(provider, "Lee", "Quinn", "sitemapped.test")
    assert office is not None and (office.value, office.kind) == ("+12125550100", "office")


async def test_unreachable_site_is_not_found(provider: WebsiteProvider) -> None:
    assert await _phone(provider, "Alex", "Johnson", "nowhere.test") is None
    site = await provider.site("nowhere.test")
    assert site.error and not site.pages


async def test_failed_crawl_is_retried_after_an_hour(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    from datetime import UTC, datetime, timedelta

    from leadsonar.domains.models import DomainFacts

    assert await _phone(provider, "Alex", "Johnson", "late.test") is None
    dns_zone.add_a("late.test", "127.0.0.20")
    web.site("late.test", {"/": "<p>Main: +1 415 555 0100</p>"})
    assert await _phone(provider, "Alex", "Johnson", "late.test") is None  # still cached
    async with provider.db.session() as session:
        facts = await session.get(DomainFacts, "late.test")
        assert facts is not None
        facts.crawled_at = datetime.now(UTC) - timedelta(hours=2)
    provider.forget("late.test")  # the stored crawl changed behind the provider's back
    finding = await _phone(provider, "Alex", "Johnson", "late.test")
    assert finding is not None and finding.kind == "office"


TEAM_WITH_FOOTER = """<html lang="en"><body><main><h1>Our team</h1>
<div class="card"><h3>Michaela Berg</h3><p>Head of Sales</p><p>Direct: +1 415 555 0142</p></div>
<div class="card"><h3>Michael Berg</h3><p>Founder</p><p>Phone: +1 415 555 0150</p></div>
<div class="card"><h3>Peter Holm</h3><p>CTO</p><a href="mailto:peter.holm@acme.com">Email</a></div>
</main>
<footer><p>Call us: (415) 555-0100</p></footer></body></html>"""


async def test_no_one_gets_anothers_number(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    """Review 2: Michael got Michaela's direct line (near spelling, picked by label) and the
    footer's office line became the last card's person's own number."""
    dns_zone.add_a("acme.com", "127.0.0.20")
    web.site("acme.com", {"/": '<a href="/team">Team</a>', "/team": TEAM_WITH_FOOTER})
    michael = await _phone(provider, "Michael", "Berg", "acme.com")
    assert michael is not None and (michael.value, michael.kind) == ("+14155550150", "direct")
    michaela = await _phone(provider, "Michaela", "Berg", "acme.com")
    assert michaela is not None and (michaela.value, michaela.kind) == ("+14155550142", "direct")
    for first, last in (("Peter", "Holm"), ("Daniela", "Berg"), ("Sam", "Nobody")):
        finding = await _phone(provider, first, last, "acme.com")
        assert finding is not None, first
        assert (finding.value, finding.kind) == ("+14155550100", "office"), first
    assert (
        await provider.find_email(Person("Peter", "Holme"), Company("acme.com"), LookupContext())
        is None
    )


async def test_a_site_that_times_out_is_a_fault_not_a_miss(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    """Review 2: a timeout was answered "not found" (and the waterfall cached that miss for a
    day). A site that did not answer raises ProviderTimeout, one that refuses connections
    ProviderUnavailable; a name with no address stays a clean miss."""
    page = "<div><h3>Chris Park</h3><p>Direct: +1 415 555 0199</p></div>"
    dns_zone.add_a("slowco.test", "127.0.0.20")
    web.site("slowco.test", {"/robots.txt": Response("", 404), "/": Response(page, delay=2.0)})
    dns_zone.add_a("slowrobots.test", "127.0.0.20")
    web.site("slowrobots.test", {"/robots.txt": Response("", delay=2.0), "/": page})
    dns_zone.add_a("closed.test", "127.0.0.59")  # nothing listens there
    settings = web_settings(dns_zone, web, tmp_path, crawl_timeout=0.3)
    db = Database(settings.database_url)
    await upgrade_to_head(db.engine)
    website = WebsiteProvider(settings, db, SafeHttp(settings, Resolver.from_settings(settings)))
    try:
        for domain in ("slowco.test", "slowrobots.test"):
            with pytest.raises(ProviderTimeout):
                await _phone(website, "Chris", "Park", domain)
            with pytest.raises(ProviderTimeout):
                await website.find_email(Person("Chris", "Park"), Company(domain), LookupContext())
        with pytest.raises(ProviderUnavailable):
            await _phone(website, "Chris", "Park", "closed.test")
        assert await _phone(website, "Chris", "Park", "nowhere.test") is None
        assert (await website.site("nowhere.test")).failure is None
    finally:
        await website.aclose()
        await db.dispose()


async def test_only_addresses_whose_owner_is_identified_teach_the_pattern(
    provider: WebsiteProvider,
) -> None:
    """Issue 8 §4 on lindqvist.de: ``li.wagner@`` stands in Li Wagner's card (teaches
    first.last); ``kowalczyk@`` stands with no name but spells the one listed Kowalczyk (teaches
    last); ``li@`` could be either Li (teaches nothing, no ``first``); ``kontakt@`` is a role
    address (nothing)."""
    site = await provider.site("lindqvist.de")
    assert site.lists_team and site.team_page is not None and site.team_page.endswith("/team")
    assert {"Li Wagner", "Li Kowalczyk", "Eva Lind"} <= set(site.people)
    assert site.listed("Li", "Kowalczyk") is True and site.listed("Sam", "Nobody") is False
    async with provider.db.session() as session:
        patterns = dict(await learned_patterns(session, "lindqvist.de"))
    assert patterns == {"first.last": 1, "last": 1}


async def test_a_staff_table_lists_the_team_and_one_name_does_not(
    provider: WebsiteProvider,
) -> None:
    """A site naming one person (sitemapped.test: Dana Whitfield) lists no team, so nobody can
    be said not to work there (``listed`` is ``None``); a staff table does."""
    site = await provider.site("sitemapped.test")
    assert site.people == ["Dana Whitfield"] and not site.lists_team
    assert site.listed("Sam", "Nobody") is None
    kestrel = await provider.site("kestrel.co.uk")
    assert kestrel.people == ["Oliver Smith", "Amelia Jones", "Harry Brown"]
    assert kestrel.lists_team
    async with provider.db.session() as session:
        patterns = dict(await learned_patterns(session, "kestrel.co.uk"))
    assert patterns == {"f.last": 1}  # o.smith@ in Oliver Smith's row; info@ teaches nothing


async def test_a_profile_page_left_unread_by_the_crawl_is_read_for_its_person(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    """A team page linking one profile page per person (each with the person's direct line)
    has more people than the crawl's page budget: the lookup reads the person's own page, once,
    and nobody else's."""
    people = [(f"Person{chr(65 + i)}", f"Surname{chr(65 + i)}") for i in range(12)]
    cards = "".join(
        f'<li><a href="/team/{first.lower()}">{first} {last}</a></li>' for first, last in people
    )
    pages: dict[str, Any] = {"/": '<a href="/team">Team</a>', "/team": f"<ul>{cards}</ul>"}
    for i, (first, last) in enumerate(people):
        pages[f"/team/{first.lower()}"] = (
            f'<html lang="en"><h1>{first} {last}</h1><p>Direct: +1 415 555 01{10 + i}</p>'
            f"<p>{first.lower()}.{last.lower()}@profiles.test</p></html>"
        )
    dns_zone.add_a("profiles.test", "127.0.0.20")
    web.site("profiles.test", pages)
    site = await provider.site("profiles.test")
    unread = [url for url in site.profiles]
    assert unread and len(site.pages) <= provider.settings.crawl_max_pages
    last_first, last_last = people[-1]
    assert any(url.endswith(f"/team/{last_first.lower()}") for url in unread)
    finding = await _phone(provider, last_first, last_last, "profiles.test")
    assert finding is not None and (finding.value, finding.kind) == ("+14155550121", "direct")
    assert web.paths("profiles.test").count(f"/team/{last_first.lower()}") == 1
    again = await _phone(provider, last_first, last_last, "profiles.test")
    assert again is not None and again.value == "+14155550121"
    assert web.paths("profiles.test").count(f"/team/{last_first.lower()}") == 1
    async with provider.db.session() as session:
        patterns = dict(await learned_patterns(session, "profiles.test"))
    assert patterns.get("first.last", 0) >= 1


async def test_namesakes_numbers_are_told_apart_by_a_middle_initial_or_not_given(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    """Two listed Daniel Moreaus: "Daniel J." gets his own line, a plain "Daniel Moreau" the
    plain one's, never the other's; a Daniel K. Moreau (not listed) gets neither."""
    team = """<html lang="en"><div class="team">
    <div class="card"><h3>Daniel J. Moreau</h3><p>Sales</p><p>+1 415 555 0161</p></div>
    <div class="card"><h3>Daniel Moreau</h3><p>Finance</p><p>+1 415 555 0162</p></div>
    <div class="card"><h3>Sarah K. Lin</h3><p>+1 415 555 0163</p></div></div>
    <footer>+1 415 555 0100</footer>"""
    dns_zone.add_a("moreau.test", "127.0.0.20")
    web.site("moreau.test", {"/": '<a href="/team">Team</a>', "/team": team})
    daniel_j = await _phone(provider, "Daniel J.", "Moreau", "moreau.test")
    assert daniel_j is not None and (daniel_j.value, daniel_j.kind) == ("+14155550161", "direct")
    plain = await _phone(provider, "Daniel", "Moreau", "moreau.test")
    assert plain is not None and (plain.value, plain.kind) == ("+14155550162", "direct")
    other = await _phone(provider, "Daniel K.", "Moreau", "moreau.test")
    assert other is not None and (other.value, other.kind) == ("+14155550100", "office")
    sarah = await _phone(provider, "Sarah", "Lin", "moreau.test")
    assert sarah is not None and sarah.value == "+14155550163"  # one Sarah Lin: hers


async def test_namesakes_published_addresses_follow_the_same_rule(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    team = """<html lang="en"><div class="team">
    <div class="card"><h3>Daniel J. Moreau</h3><p>daniel.j.moreau@moreau2.test</p></div>
    <div class="card"><h3>Daniel Moreau</h3><p>daniel.moreau@moreau2.test</p></div></div>"""
    dns_zone.add_a("moreau2.test", "127.0.0.20")
    web.site("moreau2.test", {"/": '<a href="/team">Team</a>', "/team": team})
    found = await provider.find_email(
        Person("Daniel J.", "Moreau"), Company("moreau2.test"), LookupContext()
    )
    assert found is not None and found.value == "daniel.j.moreau@moreau2.test"
    plain = await provider.find_email(
        Person("Daniel", "Moreau"), Company("moreau2.test"), LookupContext()
    )
    assert plain is not None and plain.value == "daniel.moreau@moreau2.test"


async def test_a_plain_query_never_gets_the_middle_initial_namesakes_number(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    """The site lists Daniel L. Thompson (with a number) and Daniel Thompson (without): a
    query for "Daniel Thompson" gets no direct dial, "Daniel L. Thompson" gets his."""
    team = """<html lang="en"><div class="team">
    <div class="card"><h3>Daniel L. Thompson</h3><p>Sales</p><p>+1 303 555 0174</p></div>
    <div class="card"><h3>Daniel Thompson</h3><p>Finance</p></div></div>
    <footer>+1 303 555 0140</footer>"""
    dns_zone.add_a("harbor.test", "127.0.0.20")
    web.site("harbor.test", {"/": '<a href="/team">Team</a>', "/team": team})
    plain = await _phone(provider, "Daniel", "Thompson", "harbor.test")
    assert plain is not None and (plain.value, plain.kind) == ("+13035550140", "office")
    middle = await _phone(provider, "Daniel L.", "Thompson", "harbor.test")
    assert middle is not None and middle.value == "+13035550174"


async def test_who_a_site_lists_is_known_before_its_vcards_are_read(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    # The prober's owner check needs the names, not the vCards behind them: it is answered
    # once the pages that may list people are read, while a slow vCard is still on its way.
    dns_zone.add_a("cards.test", "127.0.0.20")
    names = ["Hanna Berg", "Jonas Weber", "Lea Vogel"]
    team = "".join(
        f'<li><strong>{n}</strong>, Consultant — <a href="/vcard/{n.split()[0].lower()}.vcf">'
        "vCard</a></li>"
        for n in names
    )
    slow = Response(
        body="BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Hanna Berg\r\nEND:VCARD\r\n",
        content_type="text/vcard",
        delay=1.0,
    )
    web.site(
        "cards.test",
        {
            "/": '<html><body><a href="/team">Our team</a></body></html>',
            "/team": f'<html><body><h1>Team</h1><ul class="people">{team}</ul></body></html>',
        }
        | {f"/vcard/{n.split()[0].lower()}.vcf": slow for n in names},
    )
    crawl = asyncio.ensure_future(provider.site("cards.test"))
    listed = await provider.people("cards.test")
    assert not crawl.done()  # a vCard is still being read
    assert set(names) <= set(listed.people) and listed.team_page is not None
    site = await crawl
    assert any(p.endswith(".vcf") for p in site.pages)
    assert await provider.people("cards.test") is site  # stored: the whole crawl


async def test_an_address_on_the_team_page_is_answered_before_the_vcards_are_read(
    provider: WebsiteProvider, dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    dns_zone.add_a("cards2.test", "127.0.0.20")
    team = "".join(
        f'<li><strong>{name}</strong> <a href="mailto:{mail}@cards2.test">{mail}@cards2.test</a>'
        f' <a href="/vcard/{mail}.vcf">vCard</a></li>'
        for name, mail in (
            ("Hanna Berg", "hberg"),
            ("Jonas Weber", "jweber"),
            ("Lea Vogel", "lvogel"),
        )
    )
    slow = Response(body="BEGIN:VCARD\r\nEND:VCARD\r\n", content_type="text/vcard", delay=1.0)
    web.site(
        "cards2.test",
        {
            "/": '<html><body><a href="/team">Our team</a></body></html>',
            "/team": f'<html><body><h1>Team</h1><ul class="people">{team}</ul></body></html>',
        }
        | {f"/vcard/{m}.vcf": slow for m in ("hberg", "jweber", "lvogel")},
    )
    found = await provider.find_email(
        Person("Jonas", "Weber"), Company("cards2.test"), LookupContext()
    )
    crawl = asyncio.ensure_future(provider.site("cards2.test"))  # the crawl it started
    await asyncio.sleep(0)
    assert not crawl.done()  # still reading the vCards
    assert found is not None and found.value == "jweber@cards2.test"
    assert found.confidence is Confidence.MEDIUM
    await crawl
