"""Company name → domain against a loopback world of real sites, parked and same-word decoys
and redirects (issue 8, kind 1), with Wikidata's stand-in and providers' company searches."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from leadsonar.config import Settings
from leadsonar.domains.companies import CompanyResolver, WikidataSource, domain_guesses
from leadsonar.domains.companies.resolver import WAVES
from leadsonar.domains.companies.sources import CompanySearch
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.safe_http import SafeHttp
from leadsonar.providers.http.apollo import ApolloProvider
from leadsonar.providers.http.hunter import HunterProvider
from leadsonar.providers.http.pdl import PeopleDataLabsProvider
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.webserver import LoopbackWeb, Response
from leadsonar.testing.wikidata import HUMAN, WikidataStandIn
from tests.integration.company_world import (
    BRIGHTWAVE,
    COMPANIES,
    KESSLER,
    MOREL,
    NORTHWIND,
    SITE_IP,
    SONNENFELD,
    VIREO,
    build_company_world,
)
from tests.integration.test_website import web_settings


@pytest.fixture
async def world(dns_zone: LoopbackDns) -> AsyncIterator[LoopbackWeb]:
    async with LoopbackWeb() as web:
        await build_company_world(web, dns_zone)
        yield web


class Harness:
    """A CompanyResolver on the world, with its database and the sources given."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.resolver = Resolver.from_settings(settings)

    async def make(self, sources: list[CompanySearch] | None = None) -> CompanyResolver:
        await upgrade_to_head(self.db.engine)
        return CompanyResolver(
            self.settings, self.db, self.resolver, SafeHttp(self.settings, self.resolver), sources
        )


@pytest.fixture
async def harness(
    dns_zone: LoopbackDns, world: LoopbackWeb, tmp_path: Path
) -> AsyncIterator[Harness]:
    made = Harness(web_settings(dns_zone, world, tmp_path))
    try:
        yield made
    finally:
        await made.db.dispose()


@pytest.mark.parametrize("company", COMPANIES, ids=lambda c: c.name)
async def test_guessing_finds_the_real_site_past_the_decoys(harness: Harness, company: Any) -> None:
    resolution = await (await harness.make()).resolve(company.name)
    assert (resolution.domain, resolution.source) == (company.domain, "guess"), resolution
    assert resolution.reason and company.domain in resolution.reason


async def test_reasons_say_what_named_the_company(harness: Harness) -> None:
    resolver = await harness.make()
    sonnenfeld = await resolver.resolve(SONNENFELD.name)
    assert sonnenfeld.reason == (
        "sonnenfeld.de: its title names the company 'Sonnenfeld', "
        f"its legal notice names {SONNENFELD.name}"
    )
    morel = await resolver.resolve(MOREL.name)
    assert morel.reason == (
        f"morel-conseil.fr: its title names the company 'Morel Conseil', "
        f"its legal notice names {MOREL.name}"
    )
    brightwave = await resolver.resolve(BRIGHTWAVE.name)
    assert brightwave.reason is not None
    assert brightwave.reason == (
        "brightwave-group.com: its title names the company 'Brightwave Group' "
        "(brightwave.de redirects there)"
    )
    northwind = await resolver.resolve(NORTHWIND.name)
    assert northwind.reason == (
        f"northwindhq.com: its title names the company 'Northwind', its home page names "
        f"{NORTHWIND.name}"
    )


async def test_one_dns_query_per_guess_and_pages_only_for_names_that_exist(
    harness: Harness, dns_zone: LoopbackDns, world: LoopbackWeb
) -> None:
    resolver = await harness.make()
    await resolver.resolve(NORTHWIND.name)
    asked = [q for q in dns_zone.queries if q[1] == "A" and "northwind" in q[0]]
    names = [name for name, _ in asked]
    assert "northwindhq.com" in names and "getnorthwind.com" in names
    # each guess once in DNS (the fetcher resolves the few live ones again to connect)
    live = {
        "northwindhq.com",
        "northwind.com",
        "northwindsecurity.com",
        "northwind.io",
        "northwind.co",
    }
    assert all(names.count(n) == 1 for n in set(names) - live)
    # no page was asked of a name without DNS records
    assert world.paths("getnorthwind.com") == []
    assert world.paths("northwindhq.com")[-1] == "/"
    # the resolution is stored: a second lookup asks nobody
    before = len(dns_zone.queries)
    again = await resolver.resolve("Northwind Security, Inc.")
    assert again.domain == NORTHWIND.domain and len(dns_zone.queries) == before


async def test_mail_breaks_a_tie_between_sites_that_name_the_company_alike(
    harness: Harness, dns_zone: LoopbackDns, world: LoopbackWeb
) -> None:
    """corvidanalytics.com ranks first by prior, but takes no mail (RFC 7505 null MX);
    corvid-analytics.io names the company as well and has MX hosts: it wins."""
    html = "<title>Corvid Analytics</title><p>Dashboards</p>"
    for host in ("corvidanalytics.com", "corvid-analytics.io"):
        world.site(host, {"/": html})
        dns_zone.add_a(host, SITE_IP)
    dns_zone.add_null_mx("corvidanalytics.com")
    dns_zone.add_mx("corvid-analytics.io", [(10, "mx.corvid-analytics.io")])
    resolution = await (await harness.make()).resolve("Corvid Analytics GmbH")
    assert resolution.domain == "corvid-analytics.io"


async def test_concurrent_resolutions_of_one_name_share_one_run(
    harness: Harness, dns_zone: LoopbackDns
) -> None:
    resolver = await harness.make()
    names = [NORTHWIND.name, "Northwind Security, Inc.", "NORTHWIND SECURITY INC"]
    results = await asyncio.gather(*(resolver.resolve(n) for n in names))
    assert {r.domain for r in results} == {NORTHWIND.domain}
    assert dns_zone.queries.count(("getnorthwind.com", "A")) == 1


async def test_a_cancelled_resolution_does_not_fail_the_one_waiting_for_it(
    harness: Harness, dns_zone: LoopbackDns
) -> None:
    resolver = await harness.make()
    first = asyncio.create_task(resolver.resolve(SONNENFELD.name))
    for _ in range(1000):  # until the first is under way
        if dns_zone.queries:
            break
        await asyncio.sleep(0.005)
    second = asyncio.create_task(resolver.resolve(SONNENFELD.name))
    await asyncio.sleep(0.01)
    first.cancel()
    resolution = await second
    assert first.cancelled() and resolution.domain == SONNENFELD.domain


async def test_a_name_whose_every_candidate_is_a_decoy_is_unresolved(
    harness: Harness, dns_zone: LoopbackDns
) -> None:
    resolution = await (await harness.make()).resolve("Northwind Bakeries")
    # northwind.com names "Northwind Bakery" (not "Northwind Bakeries"), the rest are parked
    assert resolution.domain is None and resolution.source == "unresolved"
    assert "could not be resolved" in (resolution.reason or "")


# -- guessing in waves -----------------------------------------------------------------------

QUILLON = "Quillon Robotics Inc."
QUILLON_PAGE = "<title>Quillon Robotics</title><p>Quillon Robotics, Inc. builds robot arms.</p>"


def _quillon_site(world: LoopbackWeb, dns_zone: LoopbackDns, domain: str, mail: str) -> None:
    """A site on ``domain`` naming Quillon Robotics; ``mail``: ``mx`` (MX records), ``null``
    (RFC 7505 null MX) or ``implicit`` (no MX: the A record is the mail host)."""
    world.site(domain, {"/": QUILLON_PAGE})
    dns_zone.add_a(domain, SITE_IP)
    if mail == "mx":
        dns_zone.add_mx(domain, [(10, f"mx.{domain}")])
    elif mail == "null":
        dns_zone.add_null_mx(domain)


def _asked(dns_zone: LoopbackDns, domain: str, qtype: str = "A") -> int:
    return dns_zone.queries.count((domain, qtype))


async def test_guessing_stops_after_the_wave_whose_site_names_the_company_and_takes_mail(
    harness: Harness, dns_zone: LoopbackDns, world: LoopbackWeb
) -> None:
    """The most likely guess names the company and has MX hosts: the first wave (16 guesses)
    is asked, each once, and no guess of a later wave ever is, not even one whose site would
    name the company too."""
    guesses = domain_guesses(QUILLON)
    first, later = guesses[0], guesses[WAVES[0]]
    _quillon_site(world, dns_zone, first, "mx")
    _quillon_site(world, dns_zone, later, "mx")
    resolution = await (await harness.make()).resolve(QUILLON)
    assert resolution.domain == first, resolution
    assert [_asked(dns_zone, g) for g in guesses[: WAVES[0]]] == [1] * WAVES[0]
    assert not any(_asked(dns_zone, g) for g in guesses[WAVES[0] :])
    assert world.paths(later) == []


async def test_a_null_mx_does_not_stop_guessing(
    harness: Harness, dns_zone: LoopbackDns, world: LoopbackWeb
) -> None:
    """A site naming the company on a domain with a null MX (RFC 7505: no mail at all) does
    not end the guessing: the second wave is asked, and its site that names the company and
    takes mail wins; the third wave is never asked."""
    guesses = domain_guesses(QUILLON)
    first, second = guesses[0], guesses[WAVES[0]]
    _quillon_site(world, dns_zone, first, "null")
    _quillon_site(world, dns_zone, second, "mx")
    resolution = await (await harness.make()).resolve(QUILLON)
    assert resolution.domain == second, resolution
    assert all(_asked(dns_zone, g) == 1 for g in guesses[: WAVES[0] + WAVES[1]])
    assert not any(_asked(dns_zone, g) for g in guesses[WAVES[0] + WAVES[1] :])


async def test_an_implicit_mx_counts_as_taking_mail(
    harness: Harness, dns_zone: LoopbackDns, world: LoopbackWeb
) -> None:
    """No MX records but an A record: the domain is its own mail host (RFC 5321 §5.1), so its
    site naming the company ends the guessing after the first wave."""
    guesses = domain_guesses(QUILLON)
    first, later = guesses[0], guesses[WAVES[0]]
    _quillon_site(world, dns_zone, first, "implicit")
    _quillon_site(world, dns_zone, later, "mx")
    resolution = await (await harness.make()).resolve(QUILLON)
    assert resolution.domain == first, resolution
    assert "takes no mail" not in (resolution.reason or "")
    assert _asked(dns_zone, first, "MX") == 1  # no MX records: then A and AAAA
    assert not any(_asked(dns_zone, g) for g in guesses[WAVES[0] :])


def _ours(task: asyncio.Task[Any]) -> bool:
    """A task of the code under test, not of the loopback servers serving it."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is None or "leadsonar/testing" not in code.co_filename.replace("\\", "/")


async def test_a_cancelled_resolution_leaves_no_task_behind(
    harness: Harness, dns_zone: LoopbackDns, world: LoopbackWeb
) -> None:
    """The lookup's deadline cancels a resolution mid-wave (one home page still loading,
    other guesses still waiting on DNS): every DNS lookup and site check of the wave is
    cancelled with it."""
    guesses = domain_guesses(QUILLON)
    world.site(guesses[0], {"/": Response(QUILLON_PAGE, delay=1.0)})
    dns_zone.add_a(guesses[0], SITE_IP)
    for guess in guesses[1:4]:
        dns_zone.fail(guess, "timeout")
    resolver = await harness.make()
    before = asyncio.all_tasks()
    resolving = asyncio.create_task(resolver.resolve(QUILLON))
    for _ in range(1000):  # until the slow home page is being fetched
        if "/" in world.paths(guesses[0]):
            break
        await asyncio.sleep(0.005)
    assert "/" in world.paths(guesses[0])
    resolving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await resolving
    await asyncio.sleep(0)
    left = {t for t in asyncio.all_tasks() - before if not t.done() and _ours(t)}
    assert not left, left
    assert resolver._running == {}
    await asyncio.sleep(1.0)  # the slow page's server answers its closed connection


# -- Wikidata --------------------------------------------------------------------------------


@pytest.fixture
async def wikidata() -> AsyncIterator[WikidataStandIn]:
    async with WikidataStandIn() as server:
        yield server


async def test_wikidata_official_website_is_used_once_verified(
    harness: Harness, wikidata: WikidataStandIn, dns_zone: LoopbackDns
) -> None:
    wikidata.add("Q90001", "Kessler Technologies", website="https://www.kessler-tech.co.uk/")
    wikidata.add(
        "Q90002", "Kessler Technologies", website="https://kessler.com", instance_of=[HUMAN]
    )
    async with httpx.AsyncClient(timeout=5) as api:
        resolver = await harness.make([WikidataSource(api, wikidata.endpoint)])
        resolution = await resolver.resolve(KESSLER.name)
    assert (resolution.domain, resolution.source) == (KESSLER.domain, "wikidata")
    assert resolution.reason == (
        "wikidata lists kessler-tech.co.uk: its title names Kessler Technologies Ltd"
    )
    searched = wikidata.matching("GET", "/w/api.php")
    assert searched[0].query["action"] == "wbsearchentities"
    assert searched[0].query["search"] == "kessler technologies"
    assert searched[1].query["ids"] == "Q90001|Q90002"
    # a source that answers with a verified site ends the waterfall: no guessing
    assert not [q for q in dns_zone.queries if q[0] == "kesslertechnologies.com"]


async def test_a_stale_wikidata_website_loses_to_the_evidence(
    harness: Harness, wikidata: WikidataStandIn
) -> None:
    """Wikidata says vireolabs.com (now parked): rejected; guessing finds vireo.ai."""
    wikidata.add("Q90003", "Vireo Labs", websites=[("https://vireolabs.com", "preferred")])
    async with httpx.AsyncClient(timeout=5) as api:
        resolver = await harness.make([WikidataSource(api, wikidata.endpoint)])
        resolution = await resolver.resolve(VIREO.name)
    assert (resolution.domain, resolution.source) == ("vireo.ai", "guess")


async def test_wikidata_down_or_unknown_falls_back_to_guessing(
    harness: Harness, wikidata: WikidataStandIn
) -> None:
    wikidata.add("Q90004", "Someone Else", website="https://northwind.com")
    async with httpx.AsyncClient(timeout=5) as api:
        broken = WikidataSource(api, wikidata.url + "/nowhere")  # answers 404
        resolver = await harness.make([broken, WikidataSource(api, wikidata.endpoint)])
        resolution = await resolver.resolve(NORTHWIND.name)
    assert (resolution.domain, resolution.source) == (NORTHWIND.domain, "guess")


async def test_wikidata_through_the_app_settings(
    dns_zone: LoopbackDns, world: LoopbackWeb, wikidata: WikidataStandIn, tmp_path: Path
) -> None:
    """``LEADSONAR_COMPANY_WIKIDATA_URL`` reaches the stand-in through the app's client; the
    answer says where the domain came from."""
    wikidata.add("Q90005", "Kessler Technologies Ltd", website="kessler-tech.co.uk")
    settings = web_settings(
        dns_zone,
        world,
        tmp_path,
        company_wikidata=True,
        company_wikidata_url=wikidata.endpoint,
        providers="email=known,website;phone=known,website",
        rate_limit="1000/second",
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("wikidata", credits=5)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            response = await client.post(
                "/api/v1/find-email",
                json={"firstName": "Ann", "lastName": "Kessler", "company": KESSLER.name},
            )
    body = response.json()
    assert response.status_code == 200, body
    assert (body["domain"], body["domainSource"]) == (KESSLER.domain, "wikidata")
    assert "kessler-tech.co.uk" in body["domainReason"]
    assert {"email", "confidence", "sources", "credits_used"} <= set(body)


# -- providers' company searches (respx, recorded shapes from the providers' docs) -------------

HUNTER_URL = "https://api.hunter.io/v2"
APOLLO_URL = "https://api.apollo.io"
PDL_URL = "https://api.peopledatalabs.com"


def _client(router: respx.Router) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler), timeout=5)


async def test_hunter_domain_search_by_company(harness: Harness) -> None:
    router = respx.Router(assert_all_called=False)
    route = router.get(f"{HUNTER_URL}/domain-search").mock(
        return_value=httpx.Response(
            200,
            json={
                "data": {
                    "domain": "kessler-tech.co.uk",
                    "disposable": False,
                    "webmail": False,
                    "accept_all": False,
                    "pattern": "{first}.{last}",
                    "organization": "Kessler Technologies",
                    "emails": [],
                },
                "meta": {"results": 0, "limit": 1, "offset": 0, "params": {}},
            },
        )
    )
    async with _client(router) as api:
        hunter = HunterProvider(api, _secret("hk"), HUNTER_URL)
        resolution = await (await harness.make([hunter])).resolve(KESSLER.name)
    assert (resolution.domain, resolution.source) == (KESSLER.domain, "hunter")
    sent = route.calls.last.request
    assert sent.url.params["company"] == KESSLER.name and sent.headers["X-API-KEY"] == "hk"
    assert "hk" not in str(sent.url)


async def test_apollo_organization_search_keeps_only_the_same_name(harness: Harness) -> None:
    router = respx.Router(assert_all_called=False)
    router.post(f"{APOLLO_URL}/api/v1/mixed_companies/search").mock(
        return_value=httpx.Response(
            200,
            json={
                "breadcrumbs": [],
                "accounts": [],
                "organizations": [
                    {
                        "id": "5e66b6381e05b4008c8331b8",
                        "name": "Kessler Plumbing",
                        "website_url": "http://www.kessler.com",
                        "primary_domain": "kessler.com",
                    },
                    {
                        "id": "54a1216c69702d7fe6de7a02",
                        "name": "Kessler Technologies",
                        "website_url": "http://www.kessler-tech.co.uk",
                        "primary_domain": "kessler-tech.co.uk",
                    },
                ],
                "pagination": {"page": 1, "per_page": 5, "total_entries": 2, "total_pages": 1},
            },
        )
    )
    async with _client(router) as api:
        apollo = ApolloProvider(api, _secret("ak"), APOLLO_URL)
        assert await apollo.company_domains(KESSLER.name) == ["kessler-tech.co.uk"]
        resolution = await (await harness.make([apollo])).resolve(KESSLER.name)
    assert (resolution.domain, resolution.source) == (KESSLER.domain, "apollo")


async def test_pdl_company_enrichment_and_a_failing_provider(harness: Harness) -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{HUNTER_URL}/domain-search").mock(
        return_value=httpx.Response(429, json={"errors": [{"id": "too_many_requests"}]})
    )
    router.get(f"{PDL_URL}/v5/company/enrich").mock(
        return_value=httpx.Response(
            200,
            json={
                "status": 200,
                "name": "kessler technologies",
                "display_name": "Kessler Technologies",
                "website": "kessler-tech.co.uk",
                "size": "51-200",
                "likelihood": 6,
            },
        )
    )
    async with _client(router) as api:
        sources: list[CompanySearch] = [
            HunterProvider(api, _secret("hk"), HUNTER_URL),
            PeopleDataLabsProvider(api, _secret("pk"), PDL_URL),
            ApolloProvider(api, None, APOLLO_URL),  # no key: skipped, never called
        ]
        resolution = await (await harness.make(sources)).resolve(KESSLER.name)
    assert (resolution.domain, resolution.source) == (KESSLER.domain, "pdl")
    assert not [c for c in router.calls if "apollo" in str(c.request.url)]


async def test_a_provider_domain_whose_site_is_another_business_is_rejected(
    harness: Harness,
) -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{PDL_URL}/v5/company/enrich").mock(
        return_value=httpx.Response(
            200, json={"status": 200, "name": "vireo labs", "website": "vireo.com"}
        )
    )
    async with _client(router) as api:
        pdl = PeopleDataLabsProvider(api, _secret("pk"), PDL_URL)
        resolution = await (await harness.make([pdl])).resolve(VIREO.name)
    assert (resolution.domain, resolution.source) == ("vireo.ai", "guess")


def _secret(value: str) -> SecretStr:
    return SecretStr(value)


# -- bulk: companyName without website, in POST /enrich and the CLI ------------------------------


async def _wait_for_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(300):
        status = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if status["status"] != "processing":
            return dict(status)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


async def test_enrich_accepts_company_names_and_resolves_each_company_once(
    dns_zone: LoopbackDns, world: LoopbackWeb, tmp_path: Path, database_url: str
) -> None:
    """On SQLite and PostgreSQL."""
    settings = web_settings(
        dns_zone,
        world,
        tmp_path,
        database_url=database_url,
        providers="email=known,website;phone=known,website",
        rate_limit="1000/second",
        job_poll_interval=0.1,
    )
    contacts = [
        {"firstName": "Dana", "lastName": "Whitfield", "companyName": NORTHWIND.name},
        {"firstName": "Sam", "lastName": "Ortiz", "companyName": NORTHWIND.name},
        {"firstName": "Lea", "lastName": "Brandt", "company_name": SONNENFELD.name},
        {"firstName": "Ann", "lastName": "Roe", "companyName": "Northwind Security, Inc."},
        {"firstName": "Max", "lastName": "Mustermann", "companyName": "Zzyzx Quasar Holdings"},
        {"firstName": "Eva", "lastName": "Lind", "website": "vireo.ai", "companyName": "Vireo"},
    ]
    async with LiveServer(settings) as server:
        key = await server.create_account("bulk-companies", credits=50)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            accepted = await client.post(
                "/api/v1/enrich",
                json={"contacts": contacts, "findEmail": False, "findPhone": True},
            )
            assert accepted.status_code == 202, accepted.text
            assert accepted.json()["total"] == 6
            status = await _wait_for_job(client, accepted.json()["jobId"])
    assert status["status"] == "completed"
    rows = {r["firstName"]: r for r in status["results"]}
    assert [r["firstName"] for r in status["results"]] == [c["firstName"] for c in contacts]
    for first in ("Dana", "Sam", "Ann"):
        assert (rows[first]["domain"], rows[first]["domainSource"]) == (NORTHWIND.domain, "guess")
    assert rows["Dana"]["phone"] == "+1-212-555-0142"
    assert rows["Lea"]["domain"] == SONNENFELD.domain
    assert "legal notice" in rows["Lea"]["domainReason"]
    assert rows["Max"]["domain"] is None and rows["Max"]["domainSource"] == "unresolved"
    assert "could not be resolved" in rows["Max"]["domainReason"]
    assert (rows["Eva"]["domain"], rows["Eva"]["domainSource"]) == ("vireo.ai", "website")
    # each distinct company was resolved once: its guesses were asked once (the resolved ones
    # up to the wave that settled them, the unresolved one to its least likely guess)
    for guess in ("getnorthwind.com", "sonnenfeld.co", "zzyzxquasar-group.com"):
        assert dns_zone.queries.count((guess, "A")) == 1, guess


async def test_cli_enrich_resolves_company_names(
    dns_zone: LoopbackDns, world: LoopbackWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from leadsonar.cli import app as cli_app

    for name, value in {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "DNS_SERVERS": dns_zone.address,
        "ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "CRAWL_SCHEME": "http",
        "CRAWL_PORT": str(world.port),
        "CRAWL_DELAY": "0",
        "PROVIDERS": "email=known,website;phone=known,website",
    }.items():
        monkeypatch.setenv(f"LEADSONAR_{name}", value)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(
        "firstName,lastName,company\n"
        f'Dana,Whitfield,"{NORTHWIND.name}"\n'
        f'Sam,Ortiz,"{NORTHWIND.name}"\n'
        f'Lea,Brandt,"{SONNENFELD.name}"\n'
    )
    result = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["enrich", str(source), "-o", str(target), "--phone"]
    )
    assert result.exit_code == 0, result.output
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["domain"], r["domain_source"]) for r in rows] == [
        (NORTHWIND.domain, "guess"),
        (NORTHWIND.domain, "guess"),
        (SONNENFELD.domain, "guess"),
    ]
    assert rows[0]["phone"] == "+1-212-555-0142"
    assert dns_zone.queries.count(("getnorthwind.com", "A")) == 1
    # the operator's command: the stored resolution, with where it came from and why
    shown = await asyncio.to_thread(CliRunner().invoke, cli_app, ["company", SONNENFELD.name])
    assert shown.exit_code == 0, shown.output
    answer = json.loads(shown.output)
    assert (answer["domain"], answer["domainSource"]) == (SONNENFELD.domain, "guess")
    assert answer["domainReason"].startswith("resolved from guess and verified on ")


async def test_a_suppressed_domain_is_never_fetched_nor_chosen(
    harness: Harness, world: LoopbackWeb
) -> None:
    """Issue 12 §5: no HTTP request is made for a suppressed domain, not even to check that a
    company name points at it."""
    from leadsonar.suppressions.service import SuppressionList, add

    resolver = await harness.make()
    resolver.suppressions = SuppressionList(harness.db)
    async with harness.db.write_session() as session:
        await add(session, 0, "domain", NORTHWIND.domain)
    resolution = await resolver.resolve(NORTHWIND.name)
    assert resolution.domain != NORTHWIND.domain, resolution
    assert not world.paths(NORTHWIND.domain)
