"""Issue 8 §3: namesakes and numbered addresses, over HTTP against real loopback DNS and SMTP.

A company with two Daniel Moreaus gives one of them ``daniel.moreau@`` and the other a
middle-initial form (``daniel.j.moreau@``) or a number (``daniel.moreau2@``). The mail server
says which mailboxes exist, not whose they are: the prober tries the middle-initial forms first
when the query carries a middle initial, asks for the numbered sibling of what it finds, and
never answers ``high`` for an address a colleague may own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'namesakes.db'}",
        rate_limit="1000/second",
        providers="email=known,smtp;phone=known",
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("namesakes", credits=100)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as http:
            yield http


def _domain(dns: LoopbackDns, domain: str, ip: str) -> None:
    dns.add_mx(domain, [(10, f"mx.{domain}")])
    dns.add_a(f"mx.{domain}", ip)


async def _find(client: httpx.AsyncClient, first: str, last: str, domain: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/find-email", json={"firstName": first, "lastName": last, "website": domain}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("first", "last"),
    [("Daniel J.", "Moreau"), ("Daniel J", "Moreau"), ("Daniel", "J. Moreau")],
)
async def test_a_middle_initial_finds_the_middle_initial_address_first(
    client: httpx.AsyncClient,
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    first: str,
    last: str,
) -> None:
    _domain(dns_zone, "moreau.test", "127.0.0.2")
    server = await smtp_world.serve(
        "127.0.0.2", mailboxes={"daniel.moreau@moreau.test", "daniel.j.moreau@moreau.test"}
    )
    body = await _find(client, first, last, "moreau.test")
    assert (body["email"], body["confidence"]) == ("daniel.j.moreau@moreau.test", "high")
    # The colleague's plain address was never the answer, nor even asked for first.
    assert server.rcpts[0] == "daniel.j.moreau@moreau.test"
    assert "daniel.moreau@moreau.test" not in server.rcpts


async def test_the_plain_namesake_keeps_the_plain_address(
    client: httpx.AsyncClient, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "moreau.test", "127.0.0.2")
    await smtp_world.serve(
        "127.0.0.2", mailboxes={"daniel.moreau@moreau.test", "daniel.j.moreau@moreau.test"}
    )
    body = await _find(client, "Daniel", "Moreau", "moreau.test")
    assert (body["email"], body["confidence"]) == ("daniel.moreau@moreau.test", "high")


@pytest.mark.parametrize(
    ("mailboxes", "first", "answer"),
    [
        # first.last2: the company numbered the second Sarah Kim
        ({"sarah.kim@kim.test", "sarah.kim2@kim.test"}, "Sarah", "sarah.kim@kim.test"),
        # the query's middle initial is not in any address: which Sarah is it?
        ({"sarah.kim@kim.test", "sarah.kim2@kim.test"}, "Sarah K.", "sarah.kim@kim.test"),
        # flast2
        ({"skim@kim.test", "skim2@kim.test"}, "Sarah", "skim@kim.test"),
        # first2 on a first-name domain
        ({"sarah@kim.test", "sarah2@kim.test"}, "Sarah", "sarah@kim.test"),
    ],
)
async def test_an_address_whose_numbered_sibling_exists_is_never_high(
    client: httpx.AsyncClient,
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    mailboxes: set[str],
    first: str,
    answer: str,
) -> None:
    _domain(dns_zone, "kim.test", "127.0.0.3")
    server = await smtp_world.serve("127.0.0.3", mailboxes=mailboxes)
    body = await _find(client, first, "Kim", "kim.test")
    assert body["email"] == answer
    assert body["confidence"] == "low"
    assert body["verification"] == "valid"
    sibling = answer.replace("@", "2@")
    assert sibling in server.rcpts
    assert sibling in body["reason"]


async def test_a_numbered_sibling_probe_is_one_rcpt_and_absent_siblings_keep_high(
    client: httpx.AsyncClient, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "solo.test", "127.0.0.4")
    server = await smtp_world.serve("127.0.0.4", mailboxes={"lena.berg@solo.test"})
    body = await _find(client, "Lena", "Berg", "solo.test")
    assert (body["email"], body["confidence"]) == ("lena.berg@solo.test", "high")
    assert server.rcpts.count("lena.berg2@solo.test") == 1


async def test_a_numbered_namesake_is_not_taught_as_the_domains_pattern(
    client: httpx.AsyncClient, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """An address that may be a colleague's teaches nothing: the next person's candidates
    still start from the common order, not from a pattern learned off someone else."""
    _domain(dns_zone, "twins.test", "127.0.0.5")
    server = await smtp_world.serve(
        "127.0.0.5",
        mailboxes={"jsmith@twins.test", "jsmith2@twins.test", "mary.major@twins.test"},
    )
    first = await _find(client, "John", "Smith", "twins.test")
    assert first["confidence"] == "low"
    before = len(server.rcpts)
    second = await _find(client, "Mary", "Major", "twins.test")
    assert (second["email"], second["confidence"]) == ("mary.major@twins.test", "high")
    assert server.rcpts[before] == "mary.major@twins.test"


async def _with_team_site(
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    tmp_path: Path,
    domain: str,
    mailboxes: set[str],
    team: list[str],
    lookups: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Run ``lookups`` (the default waterfall) against ``domain``, whose mail server has
    ``mailboxes`` and whose site's team page lists ``team`` (each with a direct line)."""
    from leadsonar.testing.webserver import LoopbackWeb

    _domain(dns_zone, domain, "127.0.0.6")
    await smtp_world.serve("127.0.0.6", mailboxes=mailboxes)
    cards = "".join(
        f'<div class="card"><h3>{name}</h3><p>Direct: +49 30 1234567-{n}</p></div>'
        for n, name in enumerate(team, start=10)
    )
    async with LoopbackWeb() as web:
        await web.listen("127.0.0.31")
        dns_zone.add_a(domain, "127.0.0.31")
        web.site(
            domain,
            {
                "/": '<html><body><a href="/team">Team</a></body></html>',
                "/team": f"<html><body><h1>Our team</h1>{cards}</body></html>",
            },
        )
        settings = make_net_settings(
            dns_zone,
            smtp_world,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'team.db'}",
            rate_limit="1000/second",
            crawl_scheme="http",
            crawl_port=web.port,
            crawl_delay=0.0,
        )
        async with LiveServer(settings) as server:
            key = await server.create_account("team", credits=10)
            async with httpx.AsyncClient(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as http:
                return [await _find(http, first, last, domain) for first, last in lookups]


async def test_an_address_a_listed_colleagues_name_makes_is_not_a_strangers(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    """``jsmith@`` exists and the team page lists Jane Smith: asked for John Smith (who is not
    listed), the mailbox is most likely hers, so it is not his ``high`` answer."""
    paul, john, jane = await _with_team_site(
        dns_zone,
        smtp_world,
        tmp_path,
        "smiths.test",
        {"jsmith@smiths.test", "pweber@smiths.test"},
        ["Jane Smith", "Paul Weber", "Lea Vogel"],
        [("Paul", "Weber"), ("John", "Smith"), ("Jane", "Smith")],
    )
    assert (paul["email"], paul["confidence"]) == ("pweber@smiths.test", "high")
    assert (john["email"], john["confidence"]) == ("jsmith@smiths.test", "low")
    assert "Jane Smith" in john["reason"]
    assert (jane["email"], jane["confidence"]) == ("jsmith@smiths.test", "high")


async def test_a_first_name_address_of_a_listed_person_is_medium(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    """The spec's ``mike@linear.app`` / ``medium`` sample: a first-name mailbox is the
    person's when the company's site lists them; an unlisted Mike gets it only as ``low``."""
    listed, stranger = await _with_team_site(
        dns_zone,
        smtp_world,
        tmp_path,
        "linear.test",
        {"mike@linear.test", "sarah@linear.test", "wei@linear.test"},
        ["Mike Lee", "Sarah Chen", "Wei Zhang"],
        [("Mike", "Lee"), ("Mike", "Stone")],
    )
    assert (listed["email"], listed["confidence"]) == ("mike@linear.test", "medium")
    assert listed["verification"] == "valid"
    assert (stranger["email"], stranger["confidence"]) == ("mike@linear.test", "low")


async def test_a_full_name_exception_beside_an_initials_address_is_the_persons(
    client: httpx.AsyncClient, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """An flast company gave Javier Peña ``javier.pena@`` because Julia Peña had ``jpena@``:
    the initials address the pattern gives is the colleague's; the full-name one is his."""
    _domain(dns_zone, "castillo.test", "127.0.0.7")
    await smtp_world.serve(
        "127.0.0.7",
        mailboxes={
            "jpena@castillo.test",
            "javier.pena@castillo.test",
            "mlopez@castillo.test",
            "agarcia@castillo.test",
        },
    )
    for first, last in (("Maria", "Lopez"), ("Ana", "Garcia")):  # the domain learns flast
        assert (await _find(client, first, last, "castillo.test"))["confidence"] == "high"
    javier = await _find(client, "Javier", "Peña García", "castillo.test")
    assert (javier["email"], javier["confidence"]) == ("javier.pena@castillo.test", "high")
    julia = await _find(client, "Julia", "Peña", "castillo.test")
    assert (julia["email"], julia["confidence"]) == ("jpena@castillo.test", "high")


async def test_a_disabled_middle_initial_mailbox_does_not_fall_back_to_the_plain_one(
    client: httpx.AsyncClient, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """David H. Delgado's own ``david.h.delgado@`` is disabled (550 5.2.1: he left); the
    plain ``david.delgado@`` the server still accepts is his namesake colleague's, so he gets
    no address (it came back ``high`` before)."""
    _domain(dns_zone, "silverpine.test", "127.0.0.8")
    await smtp_world.serve(
        "127.0.0.8",
        mailboxes={"david.delgado@silverpine.test", "anna.berg@silverpine.test"},
        disabled={"david.h.delgado@silverpine.test"},
    )
    body = await _find(client, "David H.", "Delgado", "silverpine.test")
    assert body["email"] is None, body
    assert "disabled" in (body["reason"] or "")
    plain = await _find(client, "David", "Delgado", "silverpine.test")
    assert plain["email"] == "david.delgado@silverpine.test"


async def test_a_plain_address_for_a_middle_initial_query_is_low_when_a_plain_namesake_is_listed(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    """The site lists David Delgado and David H. Delgado; only ``david.delgado@`` exists (the
    company gave David H. no middle-initial address, or he has none yet): for David H. it is
    the listed plain namesake's as likely as his, so ``low``; the plain David keeps it."""
    middle, plain = await _with_team_site(
        dns_zone,
        smtp_world,
        tmp_path,
        "pines.test",
        {"david.delgado@pines.test", "anna.berg@pines.test", "tom.hale@pines.test"},
        ["David Delgado", "David H. Delgado", "Anna Berg", "Tom Hale"],
        [("David H.", "Delgado"), ("David", "Delgado")],
    )
    assert (middle["email"], middle["confidence"]) == ("david.delgado@pines.test", "low")
    assert "David Delgado" in middle["reason"]
    assert (plain["email"], plain["confidence"]) == ("david.delgado@pines.test", "high")


@pytest.mark.parametrize(
    ("twin", "learned"),
    [
        ("ss.neumann", True),  # f.last's middle form with the initials glued (fm.last)
        ("s.s.neumann", True),  # … or dotted (f.m.last)
        ("ss.neumann", False),  # the domain's pattern not learned yet: f.last is no head pattern
    ],
)
async def test_the_middle_initial_form_follows_the_domains_pattern_family(
    client: httpx.AsyncClient,
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    twin: str,
    learned: bool,
) -> None:
    # A colleague Sabine Neumann has s.neumann@ on an f.last domain; the newcomer the lead list
    # calls Sabine S. Neumann got the middle-initial form of the same pattern.
    _domain(dns_zone, "cobalt.test", "127.0.0.4")
    boxes = {"s.neumann@cobalt.test", f"{twin}@cobalt.test", "k.wolf@cobalt.test"}
    boxes |= {"l.berg@cobalt.test", "t.roth@cobalt.test"}
    await smtp_world.serve("127.0.0.4", mailboxes=boxes)
    if learned:  # three colleagues found first teach the domain's f.last
        for first, last in (("Klara", "Wolf"), ("Lena", "Berg"), ("Tim", "Roth")):
            body = await _find(client, first, last, "cobalt.test")
            assert body["email"] == f"{first[0].lower()}.{last.lower()}@cobalt.test"
    body = await _find(client, "Sabine S.", "Neumann", "cobalt.test")
    assert (body["email"], body["confidence"]) == (f"{twin}@cobalt.test", "high")
