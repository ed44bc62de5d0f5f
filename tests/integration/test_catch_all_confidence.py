"""Issue 8 §4: what an answer on a catch-all domain may claim, over HTTP against real loopback
DNS, SMTP and web servers (the default email waterfall: known, website, smtp).

A server that accepts every address proves nothing, so the answer is the domain's pattern, and
only as sure as the evidence for it: no identified sample → ``low``; one identified published
(or imported) address → ``medium``; samples that disagree → ``low``; a person the site's team
page does not name → ``low`` whatever the evidence, since such a person may not work there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from leadsonar.testing.webserver import LoopbackWeb
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

WEB_IP = "127.0.0.30"
SMTP_IP = "127.0.0.6"


def _team_page(cards: list[tuple[str, str | None]]) -> str:
    # Each card has the person's direct line: until the crawl records every listed name
    # (engineer B's part of issue 8 §4), the roster reads the names standing with published
    # numbers and addresses.
    body = "".join(
        f'<div class="card"><h3>{name}</h3><p>Consultant</p>'
        f'<p>Direct: <a href="tel:+4930123456{n:02d}">+49 30 123456-{n:02d}</a></p>'
        + (f'<p><a href="mailto:{email}">{email}</a></p>' if email else "")
        + "</div>"
        for n, (name, email) in enumerate(cards, start=10)
    )
    return (
        '<!doctype html><html lang="en"><head><title>Team</title></head><body>'
        f'<h1>Our team</h1><div class="people">{body}</div>'
        '<p>General enquiries: <a href="mailto:info@{domain}">info@{domain}</a></p>'
        "</body></html>"
    )


@pytest.fixture
async def web() -> AsyncIterator[LoopbackWeb]:
    async with LoopbackWeb() as server:
        await server.listen(WEB_IP)
        yield server


@pytest.fixture
def world(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, web: LoopbackWeb, tmp_path: Path
) -> Callable[..., Any]:
    """``async with world(domain, cards) as (server, client)``: a catch-all domain whose site's
    team page shows ``cards`` (``(name, published address or None)``; ``None`` cards: no
    site at all)."""

    def make(domain: str, cards: list[tuple[str, str | None]] | None) -> Any:
        class _World:
            async def __aenter__(self) -> tuple[LiveServer, httpx.AsyncClient]:
                dns_zone.add_mx(domain, [(10, f"mx.{domain}")])
                dns_zone.add_a(f"mx.{domain}", SMTP_IP)
                if SMTP_IP not in {s.host for s in smtp_world.servers}:
                    await smtp_world.serve(SMTP_IP, catch_all=True)
                if cards is not None:
                    dns_zone.add_a(domain, WEB_IP)
                    home = (
                        f"<html><head><title>{domain}</title></head><body>"
                        '<a href="/team">Our team</a></body></html>'
                    )
                    web.site(domain, {"/": home, "/team": _team_page(cards).format(domain=domain)})
                settings = make_net_settings(
                    dns_zone,
                    smtp_world,
                    database_url=f"sqlite+aiosqlite:///{tmp_path / 'catchall.db'}",
                    rate_limit="1000/second",
                    crawl_scheme="http",
                    crawl_port=web.port,
                    crawl_delay=0.0,
                    crawl_timeout=5.0,
                )
                self.server = LiveServer(settings)
                await self.server.__aenter__()
                key = await self.server.create_account("catchall", credits=100)
                self.client = httpx.AsyncClient(
                    base_url=self.server.url,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=60,
                )
                return self.server, self.client

            async def __aexit__(self, *exc: object) -> None:
                await self.client.aclose()
                await self.server.__aexit__(None, None, None)

        return _World()

    return make


async def _find(client: httpx.AsyncClient, first: str, last: str, domain: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/find-email", json={"firstName": first, "lastName": last, "website": domain}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


TEAM = [("Paul Weber", None), ("Lea Vogel", None), ("Tom Krause", None)]


async def test_no_evidence_for_the_pattern_is_low(world: Callable[..., Any]) -> None:
    async with world("nosite.test", None) as (_, client):
        body = await _find(client, "Paul", "Weber", "nosite.test")
    assert body["email"] == "paul.weber@nosite.test"
    assert (body["confidence"], body["verification"]) == ("low", "accept_all")
    assert "pattern is unknown" in body["reason"]


async def test_a_role_address_teaches_nothing(world: Callable[..., Any]) -> None:
    async with world("roles.test", TEAM) as (_, client):
        body = await _find(client, "Paul", "Weber", "roles.test")
    assert (body["confidence"], body["verification"]) == ("low", "accept_all")


async def test_one_identified_published_sample_makes_a_listed_person_medium(
    world: Callable[..., Any],
) -> None:
    cards = [("Anna Schmidt", "anna@sample.test"), *TEAM]  # first-name addresses
    async with world("sample.test", cards) as (_, client):
        paul = await _find(client, "Paul", "Weber", "sample.test")
        anna = await _find(client, "Anna", "Schmidt", "sample.test")
    assert paul["email"] == "paul@sample.test"  # the published pattern, not the global one
    assert (paul["confidence"], paul["verification"]) == ("medium", "accept_all")
    assert anna["email"] == "anna@sample.test"
    assert anna["confidence"] == "medium"  # published with her name: the website's answer


async def test_a_person_the_team_page_does_not_list_is_low(world: Callable[..., Any]) -> None:
    cards = [("Anna Schmidt", "anna.schmidt@listed.test"), *TEAM]
    async with world("listed.test", cards) as (_, client):
        stranger = await _find(client, "Otto", "Fremd", "listed.test")
        listed = await _find(client, "Lea", "Vogel", "listed.test")
    assert stranger["email"] == "otto.fremd@listed.test"
    assert stranger["confidence"] == "low"
    assert "does not list" in stranger["reason"]
    assert (listed["email"], listed["confidence"]) == ("lea.vogel@listed.test", "medium")


async def test_a_team_page_of_two_still_lists_the_team(world: Callable[..., Any]) -> None:
    # Two people on a page linked as the team (a contacts page naming its managing director and
    # head of sales, first-name addresses): a same-first-name stranger is not listed, so the
    # published first-name pattern does not make miriam@ hers at more than low.
    cards = [("Anja Müller", "anja@few.test"), ("Jan Kowalczyk", "jan@few.test")]
    async with world("few.test", cards) as (_, client):
        stranger = await _find(client, "Miriam", "Neumann", "few.test")
        listed = await _find(client, "Jan", "Kowalczyk", "few.test")
    assert stranger["email"] == "miriam@few.test"
    assert (stranger["confidence"], stranger["verification"]) == ("low", "accept_all")
    assert "does not list" in stranger["reason"]
    assert (listed["email"], listed["confidence"]) == ("jan@few.test", "medium")


async def test_samples_that_disagree_leave_the_pattern_unsettled(
    world: Callable[..., Any],
) -> None:
    cards = [("Anna Schmidt", "anna.schmidt@mixed.test"), ("Kai Lenz", "klenz@mixed.test"), *TEAM]
    async with world("mixed.test", cards) as (_, client):
        body = await _find(client, "Lea", "Vogel", "mixed.test")
    assert body["confidence"] == "low"
    assert body["verification"] == "accept_all"


async def test_an_imported_sample_counts_as_evidence_without_a_site(
    world: Callable[..., Any],
) -> None:
    async with world("imported.test", None) as (server, client):
        rows = [
            {
                "firstname": "John",
                "lastname": "Doe",
                "company": "",
                "website": "imported.test",
                "email": "jdoe@imported.test",
                "phone": "",
            }
        ]
        owner = await server.account_id("catchall")
        async with server.services.db.session() as session:
            await import_rows(session, list(enumerate(rows, start=2)), ImportReport(), owner)
        body = await _find(client, "Alex", "Johnson", "imported.test")
    assert (body["email"], body["confidence"]) == ("ajohnson@imported.test", "medium")
