"""find-phone, company-only lookups and SSRF refusals end to end: the spec's bodies over HTTP
against the real app, a loopback DNS server and real HTTP servers on 127.0.0.x."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from leadsonar.cli import app as cli_app
from leadsonar.domains.companies import CompanyResolver
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.webserver import LoopbackWeb, redirect
from tests.integration.test_website import web_settings
from tests.integration.web_world import NOTION_IP, build_world

INTERNAL_IP = "127.0.0.40"  # a loopback address the settings below do NOT allow
WORLD_NETWORKS = [ipaddress.ip_network("127.0.0.20/30")]  # the four company sites only


@pytest.fixture
async def web(dns_zone: LoopbackDns) -> AsyncIterator[LoopbackWeb]:
    async with LoopbackWeb() as server:
        await build_world(server, dns_zone)
        await server.listen(INTERNAL_IP)
        server.site("intranet.example.com", {"/": "<title>Intranet</title><p>+1 415 555 0123</p>"})
        yield server


@pytest.fixture
async def live(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    settings = web_settings(
        dns_zone,
        web,
        tmp_path,
        allowed_private_networks=WORLD_NETWORKS,
        providers="email=known,website;phone=known,website",
        rate_limit="1000/second",
        job_poll_interval=0.1,
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("phones", credits=100)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            yield server, client


async def _post(
    client: httpx.AsyncClient, route: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{route}", json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_find_phone_returns_the_published_direct_dial(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    body = await _post(
        client, "find-phone", {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}
    )
    assert {k: body[k] for k in ("phone", "type", "credits_used")} == {
        "phone": "+1-415-555-0192",
        "type": "direct",
        "credits_used": 1,
    }
    assert body["e164"] == "+14155550192"
    assert body["provider"] == "website" and body["domain"] == "notion.so"


async def test_the_switchboard_is_company_phone_never_phone(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    """Issue 8 §2: Sam Lee publishes no number; the company's main line is ``companyPhone``
    with ``phone`` and ``type`` null, asked twice (the second from the lookup cache or not, the
    same answer)."""
    _, client = live
    for _ in range(2):
        body = await _post(
            client, "find-phone", {"firstName": "Sam", "lastName": "Lee", "website": "notion.so"}
        )
        assert (body["phone"], body["type"], body["confidence"]) == (None, None, None)
        assert body["companyPhone"] == "+1-415-555-0100" and body["credits_used"] == 1
    alex = await _post(
        client, "find-phone", {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}
    )
    assert (alex["phone"], alex["companyPhone"]) == ("+1-415-555-0192", "+1-415-555-0100")


@pytest.mark.parametrize(
    ("first", "last", "website", "phone", "kind"),
    [
        ("Oliver", "Smith", "kestrel.co.uk", "+44-20-7946-0321", "direct"),
        ("Amelia", "Jones", "kestrel.co.uk", "+44-7700-900124", "mobile"),
        ("Harry", "Brown", "kestrel.co.uk", None, None),
        ("Li", "Wagner", "lindqvist.de", "+49-30-1234567214", "direct"),
        ("Li", "Kowalczyk", "lindqvist.de", None, None),
        ("Eva", "Lind", "lindqvist.de", "+49-30-1234567230", "direct"),
        ("Sam", "Nobody", "lindqvist.de", None, None),
    ],
)
async def test_field_layouts_give_the_persons_number_or_nothing(
    live: tuple[LiveServer, httpx.AsyncClient],
    first: str,
    last: str,
    website: str,
    phone: str | None,
    kind: str | None,
) -> None:
    """Issue 8 §2 on sites written from the field's conventions (a staff table with header
    columns and drama-range mobiles; namesake cards, German direct-dial suffixes, JSON-LD
    ContactPoint): the person's own number, or ``phone: null`` with the switchboard as
    ``companyPhone``, never the switchboard as ``phone``."""
    _, client = live
    body = await _post(
        client, "find-phone", {"firstName": first, "lastName": last, "website": website}
    )
    assert (body["phone"], body["type"]) == (phone, kind)
    switchboard = "+44-20-7946-0000" if website == "kestrel.co.uk" else "+49-30-12345670"
    assert body["companyPhone"] == switchboard
    assert body["credits_used"] == 1


async def test_find_phone_in_national_formats(live: tuple[LiveServer, httpx.AsyncClient]) -> None:
    _, client = live
    hanna = await _post(
        client,
        "find-phone",
        {"firstName": "Hanna", "lastName": "Berg", "website": "www.beispiel-gmbh.de"},
    )
    assert (hanna["phone"], hanna["type"]) == ("+49-30-123456722", "direct")
    elodie = await _post(
        client,
        "find-phone",
        {"firstName": "Élodie", "lastName": "Marchand", "website": "exemple.fr"},
    )
    assert (elodie["phone"], elodie["type"]) == ("+33-6-12-34-56-78", "mobile")


async def test_company_name_alone_resolves_to_the_domain(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns
) -> None:
    """The spec's find-phone body: ``"company": "Notion"`` → notion.so (the only guess with DNS
    records whose site names Notion) → Alex Johnson's direct dial."""
    _, client = live
    body = await _post(
        client, "find-phone", {"firstName": "Alex", "lastName": "Johnson", "company": "Notion"}
    )
    assert (body["phone"], body["type"], body["domain"]) == (
        "+1-415-555-0192",
        "direct",
        "notion.so",
    )
    asked = {name for name, _ in dns_zone.queries}
    assert {"notion.com", "notion.io", "getnotion.com", "notionhq.com"} <= asked
    email = await _post(
        client, "find-email", {"firstName": "Alex", "lastName": "Johnson", "company": "Notion"}
    )
    assert (email["email"], email["domain"]) == ("alex.johnson@notion.so", "notion.so")


async def test_guessed_domain_whose_site_names_another_company_is_not_used(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    """exemple.com serves nothing, exemple.io is another business, exemple.fr names Exemple:
    the French site is Exemple's although .fr ranks below both."""
    dns_zone.add_a("exemple.com", "127.0.0.21")  # serves nothing for that name: 404
    dns_zone.add_a("exemple.io", NOTION_IP)
    web.site("exemple.io", {"/": "<title>Totally Different Ltd</title>"})
    _, client = live
    body = await _post(
        client, "find-phone", {"firstName": "Marie", "lastName": "Dupont", "company": "Exemple"}
    )
    assert (body["phone"], body["domain"], body["domainSource"]) == (
        "+33-1-42-68-53-01",
        "exemple.fr",
        "guess",
    )
    assert "exemple.fr" in body["domainReason"]
    web.site("exemple.fr", {"/": "<title>Totally Different Ltd</title>"})
    other = await _post(
        client, "find-phone", {"firstName": "Marie", "lastName": "Dupont", "company": "Exempel"}
    )
    assert other["domain"] is None and "could not be resolved" in other["reason"]


async def test_unresolvable_company_is_a_200_with_a_reason(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    body = await _post(
        client,
        "find-phone",
        {"firstName": "Alex", "lastName": "Johnson", "company": "Zzyzx Quasar Holdings"},
    )
    assert body["phone"] is None and body["type"] is None and body["domain"] is None
    assert "Zzyzx Quasar Holdings" in body["reason"] and "website" in body["reason"]


async def test_enrich_results_carry_phones(live: tuple[LiveServer, httpx.AsyncClient]) -> None:
    _, client = live
    job = await _post(
        client,
        "enrich",
        {
            "contacts": [
                {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"},
                {"firstName": "Marie", "lastName": "Dupont", "website": "exemple.fr"},
            ],
            "findEmail": True,
            "findPhone": True,
        },
        status=202,
    )
    for _ in range(200):
        status = (await client.get(f"/api/v1/enrich/{job['jobId']}")).json()
        if status["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert status["status"] == "completed"
    rows = [(r["email"], r["phone"]) for r in status["results"]]
    assert rows == [
        ("alex.johnson@notion.so", "+1-415-555-0192"),
        ("marie.dupont@exemple.fr", "+33-1-42-68-53-01"),
    ]


# -- SSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("website", ["127.0.0.1", "localhost", "169.254.169.254", "[::1]"])
async def test_internal_website_values_are_refused_with_400(
    live: tuple[LiveServer, httpx.AsyncClient], web: LoopbackWeb, website: str
) -> None:
    _, client = live
    before = sum(web.connections.values())
    for route in ("find-phone", "find-email"):
        body = await _post(
            client, route, {"firstName": "A", "lastName": "B", "website": website}, status=400
        )
        assert set(body) == {"error"} and body["error"].startswith("website:")
    assert sum(web.connections.values()) == before


async def test_name_resolving_to_a_disallowed_address_is_refused_without_connecting(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    """A public-looking name whose A record points inside: the crawl refuses it before any
    connection (the server there counts none) and the answer says why."""
    dns_zone.add_a("intranet.example.com", INTERNAL_IP)
    dns_zone.add_a("metadata.example.com", "10.0.0.1")
    _, client = live
    for website in ("intranet.example.com", "metadata.example.com"):
        body = await _post(
            client, "find-phone", {"firstName": "A", "lastName": "B", "website": website}
        )
        assert body["phone"] is None
        assert "not public" in body["reason"], body
    assert "10.0.0.1" in body["reason"]
    assert web.connections[INTERNAL_IP] == 0


async def test_redirect_to_an_internal_address_is_refused(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, web: LoopbackWeb
) -> None:
    dns_zone.add_a("bouncer.example.com", NOTION_IP)
    web.site("bouncer.example.com", {"/": redirect(f"http://{INTERNAL_IP}:{web.port}/")})
    _, client = live
    body = await _post(
        client, "find-phone", {"firstName": "A", "lastName": "B", "website": "bouncer.example.com"}
    )
    assert body["phone"] is None
    assert web.paths("bouncer.example.com") == ["/robots.txt", "/"]
    assert web.connections[INTERNAL_IP] == 0


# -- imported companies --------------------------------------------------------------------------


async def test_imported_companies_csv_is_used_first(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = web_settings(dns_zone, web, tmp_path, allowed_private_networks=WORLD_NETWORKS)
    companies = tmp_path / "companies.csv"
    companies.write_text("name,domain\nBeispiel,https://www.beispiel-gmbh.de/\nBroken,not a url\n")
    monkeypatch.setenv("LEADSONAR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LEADSONAR_ALLOWED_PRIVATE_NETWORKS", "127.0.0.20/30")
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, ["import", str(companies)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 of 2 companies" in result.output

    from leadsonar.kit.db import Database
    from leadsonar.kit.net.dns import Resolver
    from leadsonar.kit.net.safe_http import SafeHttp

    db = Database(settings.database_url)
    resolver = Resolver.from_settings(settings)
    try:
        resolution = await CompanyResolver(
            settings, db, resolver, SafeHttp(settings, resolver)
        ).resolve("Beispiel")
    finally:
        await db.dispose()
    assert (resolution.domain, resolution.source) == ("beispiel-gmbh.de", "import")
    assert not [q for q in dns_zone.queries if q[0].startswith("beispiel.")]


async def test_crawl_cache_and_company_resolution_work_on_postgresql(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path, postgres_url: str
) -> None:
    settings = web_settings(
        dns_zone,
        web,
        tmp_path,
        database_url=postgres_url,
        allowed_private_networks=WORLD_NETWORKS,
        providers="email=known,website;phone=known,website",
        rate_limit="1000/second",
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("pg-phones", credits=5)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            body = {"firstName": "Alex", "lastName": "Johnson", "company": "Notion"}
            first = await _post(client, "find-phone", body)
            second = await _post(client, "find-phone", {**body, "firstName": "Alexander"})
    assert (first["phone"], first["type"], first["domain"]) == (
        "+1-415-555-0192",
        "direct",
        "notion.so",
    )
    assert second["domain"] == "notion.so"  # the stored resolution and crawl were reused
