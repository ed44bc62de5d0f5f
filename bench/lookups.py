"""Lookup throughput: find-email over HTTP against a loopback mail world.

A world of ``DOMAINS`` domains, each with its own SMTP server on ``127.0.0.x`` that rejects
unknown recipients, and ``PEOPLE`` people spread over them. The benchmark sends every lookup
through the real API with ``CONCURRENCY`` in flight, on SQLite, and reports requests per second,
latency percentiles, and the SMTP work spent (connections and RCPTs per lookup) — cold (first
person of a domain) against warm (the domain's pattern already learned).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile, save
from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld

DOMAINS = 12
PEOPLE = 240
CONCURRENCY = 16
SEED = 7
FIRSTS = ["alex", "maria", "john", "wei", "sara", "omar", "lena", "paul", "nina", "ivan", "rosa"]
LASTS = ["johnson", "garcia", "smith", "chen", "berg", "haddad", "novak", "rossi", "kim", "dubois"]
PATTERNS = [
    lambda f, last: f"{f}.{last}",
    lambda f, last: f,
    lambda f, last: f"{f[0]}{last}",
    lambda f, last: f"{f}{last}",
]


async def run() -> dict[str, Any]:
    rng = random.Random(SEED)
    hosts = [f"127.0.0.{i + 2}" for i in range(DOMAINS)]
    with LoopbackDns() as dns, tempfile.TemporaryDirectory() as tmp:
        async with SmtpWorld(hosts) as world:
            people: list[tuple[str, str, str, str]] = []
            for index, host in enumerate(hosts):
                domain = f"company{index}.test"
                dns.add_mx(domain, [(10, f"mx.{domain}")])
                dns.add_a(f"mx.{domain}", host)
                pattern = PATTERNS[index % len(PATTERNS)]
                mailboxes = set()
                for n in range(PEOPLE // DOMAINS):
                    first, last = rng.choice(FIRSTS), f"{rng.choice(LASTS)}{n}"
                    address = f"{pattern(first, last)}@{domain}"
                    mailboxes.add(address)
                    people.append((first.title(), last.title(), domain, address))
                await world.serve(host, mailboxes=mailboxes)
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                dns_servers=[dns.address],
                allowed_private_networks="127.0.0.0/8",
                smtp_port=world.port,
                smtp_helo_name="probe.leadsonar.test",
                rate_limit="100000/second",
            )
            rng.shuffle(people)
            async with LiveServer(settings) as live:
                key = await live.create_account("bench", credits=PEOPLE)
                latencies: list[float] = []
                right = 0
                semaphore = asyncio.Semaphore(CONCURRENCY)
                async with httpx.AsyncClient(
                    base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
                ) as client:

                    async def one(first: str, last: str, domain: str, address: str) -> None:
                        nonlocal right
                        async with semaphore:
                            began = time.perf_counter()
                            response = await client.post(
                                "/api/v1/find-email",
                                json={"firstName": first, "lastName": last, "website": domain},
                            )
                            latencies.append(time.perf_counter() - began)
                        right += response.json().get("email") == address

                    began = time.perf_counter()
                    await asyncio.gather(*(one(*p) for p in people))
                    wall = time.perf_counter() - began
            connections = sum(s.connections for s in world.servers.values())
            rcpts = sum(s.rcpt_count for s in world.servers.values())
    return {
        "domains": DOMAINS,
        "lookups": len(people),
        "concurrency": CONCURRENCY,
        "found_right": right,
        "wall_seconds": round(wall, 3),
        "lookups_per_second": round(len(people) / wall, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5) * 1000, 1),
            "p95": round(percentile(latencies, 0.95) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "smtp_connections_per_lookup": round(connections / len(people), 2),
        "smtp_rcpts_per_lookup": round(rcpts / len(people), 2),
    }


def main(argv: list[str]) -> None:
    figures = asyncio.run(run())
    path = save("lookups", figures)
    for key, value in figures.items():
        print(f"{key:32} {value}")
    print(f"saved {path}")
