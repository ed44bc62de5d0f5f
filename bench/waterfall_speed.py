"""Single-lookup speed with company websites: the default waterfall (known, website, smtp) on
domains that have both a team page and a mail server, against the naive prober.

``python -m bench.waterfall_speed [--quick]`` (issue 8 §6). A world of ``DOMAINS`` domains on
loopback, each with a real HTTP server (home page → team page listing its people with direct
lines, no addresses) and a real SMTP server that rejects unknown recipients, ``PEOPLE`` people
spread over them. Every lookup is a single ``POST /api/v1/find-email`` with ``CONCURRENCY`` in
flight, in a shuffled order (so the first lookup of a domain meets its crawl), with the
default politeness (``LEADSONAR_CRAWL_DELAY``, 0.5 s between requests to one host). The naive
prober of :mod:`bench.accuracy` answers the same people at the same concurrency.

Reported: wall time of each pass and their ratio (the issue's target: product ≤ 1.5× naive),
latency percentiles, right answers. Results: ``bench/results/waterfall_speed.json``.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.asyncresolver
import httpx

from bench.accuracy import naive_probe
from bench.common import percentile, save
from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from leadsonar.testing.webserver import LoopbackWeb

DOMAINS = 12
PEOPLE = 120
CONCURRENCY = 8
SEED = 11
FIRSTS = ["alex", "maria", "john", "wei", "sara", "omar", "lena", "paul", "nina", "ivan", "rosa"]
LASTS = ["johnson", "garcia", "smith", "chen", "berg", "haddad", "novak", "rossi", "kim", "dubois"]


@dataclass(frozen=True)
class Lookup:
    first: str
    last: str
    domain: str
    address: str


def _team_page(people: list[Lookup]) -> str:
    cards = "".join(
        f'<div class="card"><h3>{p.first} {p.last}</h3><p>Consultant</p>'
        f"<p>Direct: +1 415 555 {1000 + n}</p></div>"
        for n, p in enumerate(people)
    )
    return f"<html><head><title>Team</title></head><body><h1>Our team</h1>{cards}</body></html>"


async def _product(settings: Settings, people: list[Lookup]) -> tuple[float, list[float], int]:
    async with LiveServer(settings) as live:
        key = await live.create_account("bench", credits=len(people))
        latencies: list[float] = []
        right = 0
        semaphore = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as client:

            async def one(person: Lookup) -> None:
                nonlocal right
                async with semaphore:
                    began = time.perf_counter()
                    response = await client.post(
                        "/api/v1/find-email",
                        json={
                            "firstName": person.first.title(),
                            "lastName": person.last.title(),
                            "website": person.domain,
                        },
                    )
                    latencies.append(time.perf_counter() - began)
                right += response.json().get("email") == person.address

            began = time.perf_counter()
            await asyncio.gather(*(one(p) for p in people))
            return time.perf_counter() - began, latencies, right


async def _naive(dns_zone: LoopbackDns, port: int, people: list[Lookup]) -> tuple[float, int]:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns_zone.host]
    resolver.port = dns_zone.port or 53
    resolver.lifetime = 5.0
    semaphore = asyncio.Semaphore(CONCURRENCY)
    right = 0

    async def one(person: Lookup) -> None:
        nonlocal right
        async with semaphore:
            answer = await naive_probe(person, resolver, port)  # type: ignore[arg-type]
        right += answer == person.address

    began = time.perf_counter()
    await asyncio.gather(*(one(p) for p in people))
    return time.perf_counter() - began, right


async def run(domains: int = DOMAINS, people_count: int = PEOPLE) -> dict[str, Any]:
    rng = random.Random(SEED)
    smtp_hosts = [f"127.0.0.{i + 2}" for i in range(domains)]
    web_hosts = tuple(f"127.0.0.{i + 30}" for i in range(domains))
    with LoopbackDns() as dns_zone, tempfile.TemporaryDirectory() as tmp:
        async with SmtpWorld(smtp_hosts) as world, LoopbackWeb(web_hosts) as web:
            people: list[Lookup] = []
            for index in range(domains):
                domain = f"company{index}.test"
                dns_zone.add_mx(domain, [(10, f"mx.{domain}")])
                dns_zone.add_a(f"mx.{domain}", smtp_hosts[index])
                dns_zone.add_a(domain, web_hosts[index])
                staff = [
                    Lookup(
                        rng.choice(FIRSTS),
                        f"{rng.choice(LASTS)}{chr(97 + n)}",
                        domain,
                        "",
                    )
                    for n in range(people_count // domains)
                ]
                staff = [
                    Lookup(p.first, p.last, domain, f"{p.first}.{p.last}@{domain}") for p in staff
                ]
                people += staff
                await world.serve(smtp_hosts[index], mailboxes={p.address for p in staff})
                web.site(
                    domain,
                    {
                        "/": '<html><head><title>Home</title></head><body><a href="/team">'
                        'Our team</a> <a href="/about">About us</a></body></html>',
                        "/team": _team_page(staff),
                        "/about": "<html><body><h1>About us</h1><p>Since 1999.</p></body></html>",
                    },
                )
                await web.listen(web_hosts[index])
            rng.shuffle(people)
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                dns_servers=[dns_zone.address],
                allowed_private_networks="127.0.0.0/8",
                smtp_port=world.port,
                smtp_helo_name="probe.leadsonar.test",
                crawl_scheme="http",
                crawl_port=web.port,
                rate_limit="100000/second",
            )
            wall, latencies, right = await _product(settings, people)
            naive_wall, naive_right = await _naive(dns_zone, world.port, people)
    return {
        "domains": domains,
        "lookups": len(people),
        "concurrency": CONCURRENCY,
        "crawl_delay_seconds": settings.crawl_delay,
        "product": {
            "wall_seconds": round(wall, 3),
            "found_right": right,
            "latency_ms": {
                "p50": round(percentile(latencies, 0.5) * 1000, 1),
                "p95": round(percentile(latencies, 0.95) * 1000, 1),
                "max": round(max(latencies) * 1000, 1),
            },
        },
        "naive": {"wall_seconds": round(naive_wall, 3), "found_right": naive_right},
        "wall_ratio_product_to_naive": round(wall / naive_wall, 2) if naive_wall else None,
        "target": "product wall time <= 1.5 x naive (issue 8 §6)",
    }


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    figures = asyncio.run(run(6, 48) if quick else run())
    path = save("waterfall_speed_quick" if quick else "waterfall_speed", figures)
    for key, value in figures.items():
        print(f"{key:30} {value}")
    print(f"saved {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
