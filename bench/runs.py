"""The two sides of the generalization benchmark over one served world: the product (the real
app over HTTP, single lookups and optionally bulk jobs) and the naive script; and the loopback
servers they share (DNS zone, web sites, mail servers, the knowledge-base stand-in)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile
from bench.naive import Naive
from bench.scoring import Answer
from bench.spec import Query, Spec
from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from leadsonar.testing.webserver import LoopbackWeb, Response, redirect

try:  # the company-resolution waterfall's free source (issue 8); absent before it
    from leadsonar.testing.wikidata import WikidataStandIn
except ImportError:  # pragma: no cover - older trees
    WikidataStandIn = None

CONCURRENCY = 8
"""Requests in flight, for the product and the naive script alike."""


def _response(page: Any) -> str | Response:
    if isinstance(page, dict):
        return Response(**page)
    return page


async def serve_web(spec: Spec, stack: AsyncExitStack) -> LoopbackWeb:
    web = await stack.enter_async_context(LoopbackWeb(tuple(spec.web_hosts())))
    for ip in spec.web_hosts():
        await web.listen(ip)
    for site in spec.sites:
        www = f"www.{site.host}"
        pages = site.pages(f"http://{www if site.to_www else site.host}:{web.port}")
        web.site(site.host, {path: _response(page) for path, page in pages.items()})
        if site.to_www:
            web.site(www, {path: _response(page) for path, page in pages.items()})
            web.site(
                site.host,
                {path: redirect(f"http://{www}:{web.port}{path}", 301) for path in pages},
            )
    return web


def publish(spec: Spec, zone: LoopbackDns) -> None:
    for host, ips in spec.records.a.items():
        for ip in ips:
            zone.add_a(host, ip)
    for domain, hosts in spec.records.mx.items():
        zone.add_mx(domain, hosts)
    for domain in spec.records.null_mx:
        zone.add_null_mx(domain)


async def serve_mail(spec: Spec) -> SmtpWorld:
    smtp = SmtpWorld(spec.smtp_hosts())
    for server in spec.mail:
        await smtp.serve(server.ip, **server.behaviour)
    return smtp


SLOWEST = 5
"""Slowest rows kept per pass in the costs."""


def _load() -> float | None:
    """The machine's 1-minute load average (``None`` where the OS has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux or macOS
        return None


def _summed(took: list[tuple[float, Query]], kind: str) -> dict[str, dict[str, float]]:
    """How many rows of each ``kind`` value (``mail``: strict, tarpit, …; ``mode``: website,
    company, …) there were and the seconds they took, summed, largest first: where a pass's
    wall time goes."""
    sums: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    for seconds, row in took:
        sums[str(row.kinds.get(kind))] += seconds
        rows[str(row.kinds.get(kind))] += 1
    return {
        name: {"rows": rows[name], "seconds": round(total, 2)} for name, total in sums.most_common()
    }


async def _pass(
    rows: list[Query], one: Callable[[Query], Any], zone: LoopbackDns
) -> tuple[float, dict[str, Any]]:
    """Every row through ``one``, :data:`CONCURRENCY` at a time; (wall seconds, costs).

    The costs say where the time went: ``cpu_seconds`` (this process's CPU over the pass: the
    system under test and the loopback servers it talks to share the process), ``latency``
    (p50/p90/p99/max seconds per row), ``slowest`` (:data:`SLOWEST` rows: index, query mode,
    mail behaviour, seconds), ``seconds_by_mail`` and ``seconds_by_mode`` (each kind's rows
    and their seconds, summed), ``dns`` (questions the loopback DNS server was asked, by
    type), ``dns_repeated`` (questions asked again within the pass, with the most repeated
    ones: a cache that should have answered) and ``load`` (the machine's 1-minute load
    average before and after).
    """
    semaphore = asyncio.Semaphore(CONCURRENCY)
    took: list[tuple[float, Query]] = []

    async def bounded(row: Query) -> None:
        async with semaphore:
            started = time.perf_counter()
            await one(row)
            took.append((time.perf_counter() - started, row))

    asked = len(zone.queries)
    load = _load()
    cpu = time.process_time()
    began = time.perf_counter()
    await asyncio.gather(*(bounded(r) for r in rows))
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu
    seconds = [t for t, _ in took]
    asked_now = zone.queries[asked:]
    questions = Counter(qtype for _, qtype in asked_now)
    repeated = Counter(asked_now)
    costs = {
        "rows": len(rows),
        "cpu_seconds": round(cpu, 2),
        "latency": {
            "p50": round(percentile(seconds, 0.5), 3),
            "p90": round(percentile(seconds, 0.9), 3),
            "p99": round(percentile(seconds, 0.99), 3),
            "max": round(max(seconds, default=0.0), 3),
        },
        "slowest": [
            {
                "row": row.index,
                "mode": row.kinds.get("mode"),
                "mail": row.kinds.get("mail"),
                "seconds": round(t, 2),
            }
            for t, row in sorted(took, key=lambda item: -item[0])[:SLOWEST]
        ],
        "seconds_by_mail": _summed(took, "mail"),
        "seconds_by_mode": _summed(took, "mode"),
        "dns": dict(sorted(questions.items())) | {"total": sum(questions.values())},
        "dns_repeated": {
            "questions": sum(n - 1 for n in repeated.values()),
            "most": [
                f"{name} {qtype} x{n}" for (name, qtype), n in repeated.most_common(5) if n > 1
            ],
        },
        "load": [load, _load()],
    }
    return wall, costs


def _body(row: Query) -> dict[str, str]:
    body = {"firstName": row.first, "lastName": row.last}
    if row.website:
        body["website"] = row.website
    if row.company:
        body["company"] = row.company
    return body


async def knowledge_base(spec: Spec, stack: AsyncExitStack) -> dict[str, Any]:
    """Start the loopback Wikidata stand-in with the world's :attr:`Spec.knowledge` (when this
    tree has one) and return the product settings that point at it, so that no lookup asks the
    real Wikidata."""
    if WikidataStandIn is None:
        return {}
    wikidata = await stack.enter_async_context(WikidataStandIn())
    for n, (label, website) in enumerate(spec.knowledge, start=1):
        wikidata.add(f"Q{9000 + n}", label, website=website)
    return {"company_wikidata_url": wikidata.endpoint}


def product_settings(
    folder: str, zone: LoopbackDns, smtp: SmtpWorld, web: LoopbackWeb, extra: dict[str, Any]
) -> Settings:
    """Default settings apart from the loopback servers, the prober's identity and the rate
    limit (``extra``: the knowledge-base stand-in's address)."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{Path(folder) / 'generalization.db'}",
        dns_servers=[zone.address],
        allowed_private_networks="127.0.0.0/8",
        smtp_port=smtp.port,
        smtp_helo_name="probe.leadsonar.test",
        smtp_mail_from="verify@probe.leadsonar.test",
        crawl_scheme="http",
        crawl_port=web.port,
        rate_limit="100000/second",
        **extra,
    )


async def run_product(
    spec: Spec, zone: LoopbackDns, web: LoopbackWeb, extra: dict[str, Any] | None = None
) -> tuple[dict[int, Answer], dict[str, float], dict[str, Any]]:
    """Every row through the real app over HTTP; (answers, wall seconds per pass, costs per
    pass as :func:`_pass` measures them). ``extra``: more settings (the knowledge-base
    stand-in's address)."""
    answers: dict[int, Answer] = defaultdict(Answer)
    walls: dict[str, float] = {}
    costs: dict[str, Any] = {}
    smtp = await serve_mail(spec)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = product_settings(tmp, zone, smtp, web, extra or {})
            async with LiveServer(settings) as live:
                key = await live.create_account("bench", credits=2 * len(spec.queries) + 10)
                async with httpx.AsyncClient(
                    base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
                ) as client:

                    async def email(row: Query) -> None:
                        response = await client.post("/api/v1/find-email", json=_body(row))
                        body = response.json() if response.status_code == 200 else {}
                        answer = answers[row.index]
                        answer.status = response.status_code
                        answer.email = body.get("email")
                        answer.confidence = body.get("confidence")
                        answer.verification = body.get("verification")
                        answer.email_domain = body.get("domain")

                    async def phone(row: Query) -> None:
                        response = await client.post("/api/v1/find-phone", json=_body(row))
                        body = response.json() if response.status_code == 200 else {}
                        answer = answers[row.index]
                        answer.phone = body.get("phone")
                        answer.phone_type = body.get("type")
                        answer.company_phone = body.get("companyPhone")
                        answer.phone_domain = body.get("domain")

                    for kind, one in (("email", email), ("phone", phone)):
                        rows = [r for r in spec.queries if getattr(r, f"ask_{kind}")]
                        walls[kind], costs[kind] = await _pass(rows, one, zone)
    finally:
        await smtp.close()
    return dict(answers), walls, costs


JOB_SIZE = 100
JOBS_TIMEOUT = 900.0


async def run_product_jobs(
    spec: Spec, zone: LoopbackDns, web: LoopbackWeb, extra: dict[str, Any] | None = None
) -> tuple[dict[int, Answer], dict[str, float], int]:
    """Every row as ``POST /api/v1/enrich`` jobs (find e-mail and phone, at most
    :data:`JOB_SIZE` contacts each, ``companyName`` when the row has one) on a fresh app and
    fresh mail servers, polled until done. Rows the API refuses (a job of company-name-only
    rows where a website is required) stay unanswered and are counted in ``rejected``."""
    answers: dict[int, Answer] = defaultdict(Answer)
    smtp = await serve_mail(spec)
    rejected = 0
    began = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = product_settings(tmp, zone, smtp, web, extra or {})
            async with LiveServer(settings) as live:
                key = await live.create_account("jobs", credits=2 * len(spec.queries) + 10)
                async with httpx.AsyncClient(
                    base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
                ) as client:
                    rows = [r for r in spec.queries if r.ask_email or r.ask_phone]
                    groups = [[r for r in rows if r.website], [r for r in rows if not r.website]]
                    pending: dict[str, list[Query]] = {}
                    for group in groups:
                        for start in range(0, len(group), JOB_SIZE):
                            chunk = group[start : start + JOB_SIZE]
                            contacts = []
                            for row in chunk:
                                contact = {"firstName": row.first, "lastName": row.last}
                                if row.website:
                                    contact["website"] = row.website
                                if row.company:
                                    contact["companyName"] = row.company
                                contacts.append(contact)
                            body = {
                                "contacts": contacts,
                                "findEmail": any(r.ask_email for r in chunk),
                                "findPhone": any(r.ask_phone for r in chunk),
                            }
                            response = await client.post("/api/v1/enrich", json=body)
                            if response.status_code != 202 and response.status_code != 200:
                                rejected += len(chunk)
                                continue
                            pending[response.json()["jobId"]] = chunk
                    deadline = time.monotonic() + JOBS_TIMEOUT
                    while pending and time.monotonic() < deadline:
                        await asyncio.sleep(0.5)
                        for job_id, chunk in list(pending.items()):
                            status = (await client.get(f"/api/v1/enrich/{job_id}")).json()
                            if status.get("status") == "processing":
                                continue
                            for item in status.get("results", []):
                                row = chunk[item["position"]]
                                answer = answers[row.index]
                                answer.email = item.get("email") if row.ask_email else None
                                answer.confidence = item.get("confidence")
                                answer.verification = item.get("verification")
                                answer.email_domain = item.get("domain")
                                answer.phone = item.get("phone") if row.ask_phone else None
                                answer.phone_type = item.get("phoneType")
                                answer.company_phone = item.get("companyPhone")
                            del pending[job_id]
                    rejected += sum(len(chunk) for chunk in pending.values())
    finally:
        await smtp.close()
    return dict(answers), {"jobs": time.perf_counter() - began}, rejected


async def run_naive(
    spec: Spec, zone: LoopbackDns, web: LoopbackWeb
) -> tuple[dict[int, Answer], dict[str, float], dict[str, Any]]:
    """Every row through the naive script; (answers, wall seconds per pass, costs per pass)."""
    answers: dict[int, Answer] = defaultdict(Answer)
    walls: dict[str, float] = {}
    costs: dict[str, Any] = {}
    smtp = await serve_mail(spec)
    try:
        naive = Naive(zone.host, zone.port or 53, smtp.port, web.port)
        async with httpx.AsyncClient(timeout=10) as client:

            async def email(row: Query) -> None:
                found = await naive.email(row)
                answers[row.index].email = found.email
                answers[row.index].email_domain = found.domain

            async def phone(row: Query) -> None:
                found = await naive.phone(row, client)
                answers[row.index].phone = found.phone
                answers[row.index].phone_type = "direct" if found.phone else None
                answers[row.index].phone_domain = found.domain

            for kind, one in (("email", email), ("phone", phone)):
                rows = [r for r in spec.queries if getattr(r, f"ask_{kind}")]
                walls[kind], costs[kind] = await _pass(rows, one, zone)
    finally:
        await smtp.close()
    return dict(answers), walls, costs
