"""Generalization: does LeadSonar find right e-mails and direct dials on worlds it was not tuned
on, better than a naive script, in the same run?

``./run bench generalization [--style field|classic] [--tune-seed N] [--seeds N N N]
[--companies N] [--queries N] [--quick] [--tune-only] [--jobs] [--tag TAG]
[--markdown JSON]``

For each seed, a world of the chosen style (:mod:`bench.field_world`, written from the field's
conventions; or :mod:`bench.classic_world`, the worlds written alongside the code) is served on
loopback: one DNS server (dnslib), one SMTP server per mail host (aiosmtpd), one HTTP server for
every site. Then, over fresh SMTP servers each time (greylisting state starts clean):

* **product**: the real app over HTTP (:class:`~leadsonar.testing.live.LiveServer`, SQLite in a
  temporary folder, default settings apart from loopback DNS/SMTP/HTTP ports, the prober's
  identity and the rate limit); every row sent to ``POST /api/v1/find-email`` and then to
  ``POST /api/v1/find-phone``, :data:`CONCURRENCY` requests in flight;
* **naive**: :mod:`bench.naive`, same rows, same concurrency;
* with ``--jobs``, **product jobs**: the same rows as ``POST /api/v1/enrich`` jobs on a fresh app
  (bulk jobs can wait out greylisting; rows the API refuses are counted).

The *tune* seed (default 1) is the one to look at while changing the product; the *held-out*
seeds (default 2, 3, 4) are reported pooled and one by one, and are the figures to quote.

Measures (each for product and naive; :func:`score` has the exact rules):

* *email coverage of findable*: rows whose address can be found (``Query.email_findable`` and,
  for company-name-only rows, a company whose domain the naming habits reach) answered with
  that address, over those rows;
* *email precision*: right addresses over addresses returned, for all answers and per
  confidence (``high``, ``medium``, ``high`` + ``medium``);
* *not working there given high/medium*: people who do not work at the company who got a
  ``high`` or ``medium`` address (and any address);
* *company-name-only coverage of resolvable*: the coverage above over company-name-only rows;
  and how often the domain the answer names is the company's;
* *direct-dial coverage*: rows whose person has a number published with their name (card, row,
  JSON-LD ``Person``, vCard, h-card) answered with that number in ``phone``;
* *phone precision*: right numbers over numbers returned in ``phone``;
* *switchboard returned as phone*: answers whose ``phone`` is the company's main line (the
  product's additive ``companyPhone`` is where that belongs); other company lines (fax,
  support) are counted apart;
* *wall time* of the e-mail pass and the phone pass, and product / naive.

Results: printed, and saved to ``bench/results/generalization_<style>[_quick][_<tag>].json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import classic_world, field_world
from bench.common import save
from bench.naive import Naive
from bench.spec import Query, Spec, phone_key
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
TUNE_SEED = 1
HELD_OUT = (2, 3, 4)
COMPANIES = 48
QUERIES = 300
QUICK_COMPANIES = 12
QUICK_QUERIES = 60
STYLES: dict[str, Callable[[int, int, int], Spec]] = {
    "field": field_world.build,
    "classic": classic_world.build,
}
KIND_AXES = ("mail", "mode", "name", "layout", "tld", "region")

TARGETS = {
    "company_only_coverage": (0.95, ">="),
    "phone_precision": (0.98, ">="),
    "switchboard_as_phone": (0, "=="),
    "direct_dial_coverage": (0.95, ">="),
    "precision_high": (0.995, ">="),
    "precision_high_or_medium": (0.97, ">="),
    "not_working_there_high_or_medium": (0, "=="),
    "wall_ratio": (1.5, "<="),
    "wall_ratio_email": (1.5, "<="),
    "wall_ratio_phone": (1.5, "<="),
}
"""Issue 8's "Done when" figures."""


@dataclass
class Answer:
    """What one side said for one row (``None`` fields: no answer)."""

    email: str | None = None
    confidence: str | None = None
    verification: str | None = None
    email_domain: str | None = None
    phone: str | None = None
    phone_type: str | None = None
    company_phone: str | None = None
    phone_domain: str | None = None
    status: int = 200


# -- serving ----------------------------------------------------------------------------------


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


async def _pass(rows: list[Query], one: Callable[[Query], Any]) -> float:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def bounded(row: Query) -> None:
        async with semaphore:
            await one(row)

    began = time.perf_counter()
    await asyncio.gather(*(bounded(r) for r in rows))
    return time.perf_counter() - began


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
) -> tuple[dict[int, Answer], dict[str, float]]:
    """Every row through the real app over HTTP; (answers, wall seconds per pass). ``extra``:
    more settings (the knowledge-base stand-in's address)."""
    answers: dict[int, Answer] = defaultdict(Answer)
    walls: dict[str, float] = {}
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

                    walls["email"] = await _pass([r for r in spec.queries if r.ask_email], email)
                    walls["phone"] = await _pass([r for r in spec.queries if r.ask_phone], phone)
    finally:
        await smtp.close()
    return dict(answers), walls


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
) -> tuple[dict[int, Answer], dict[str, float]]:
    answers: dict[int, Answer] = defaultdict(Answer)
    walls: dict[str, float] = {}
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

            walls["email"] = await _pass([r for r in spec.queries if r.ask_email], email)
            walls["phone"] = await _pass([r for r in spec.queries if r.ask_phone], phone)
    finally:
        await smtp.close()
    return dict(answers), walls


# -- scoring ----------------------------------------------------------------------------------


def reachable(row: Query) -> bool:
    """A row whose company can be reached: it gives a website, or its name resolves by habit."""
    return row.kinds["mode"] != "company" or row.resolvable


def tally(rows: Iterable[Query], answers: dict[int, Answer]) -> dict[str, int]:
    """Integer counts for ``rows`` (summable across seeds); :func:`figures` makes ratios."""
    c: dict[str, int] = defaultdict(int)
    for row in rows:
        a = answers.get(row.index) or Answer()
        if row.ask_email:
            c["email_rows"] += 1
            email = (a.email or "").lower()
            right = bool(email) and email == (row.email or "").lower()
            findable = bool(row.email_findable) and reachable(row)
            c["findable"] += findable
            c["found"] += findable and right
            if email:
                c["answers"] += 1
                c["right"] += right
                level = a.confidence or "none"
                c[f"answers_{level}"] += 1
                c[f"right_{level}"] += right
                if not row.employee:
                    c["outsider_answered"] += 1
                    c["outsider_high_medium"] += level in ("high", "medium")
            if not row.employee:
                c["outsiders"] += 1
            if row.kinds["mode"] == "company" and row.resolvable:
                c["company_rows"] += 1
                c["company_domain_right"] += (a.email_domain or "").lower() == row.domain
                if row.email_findable:
                    c["company_findable"] += 1
                    c["company_found"] += right
        if row.ask_phone:
            c["phone_rows"] += 1
            region = row.kinds.get("region")
            got = phone_key(a.phone, region)
            own = phone_key(row.phone, region)
            if own and row.employee and reachable(row):
                c["published"] += 1
                c["dial_found"] += got == own
            if a.phone:
                c["phone_answers"] += 1
                c["phone_right"] += bool(own) and got == own
                c["phone_type_right"] += bool(own) and got == own and a.phone_type == row.phone_type
                c["switchboard_as_phone"] += got is not None and got == row.switchboard
                c["other_line_as_phone"] += (
                    got is not None and got != row.switchboard and got in row.company_lines
                )
            if a.company_phone:
                c["company_phone_answers"] += 1
                c["company_phone_right"] += phone_key(a.company_phone, region) == row.switchboard
    return dict(c)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(c: dict[str, int]) -> dict[str, Any]:
    """The measures from a :func:`tally`."""
    g = defaultdict(int, c)
    hm_answers = g["answers_high"] + g["answers_medium"]
    hm_right = g["right_high"] + g["right_medium"]
    return {
        "email_coverage": _ratio(g["found"], g["findable"]),
        "email_coverage_n": f"{g['found']}/{g['findable']}",
        "precision": _ratio(g["right"], g["answers"]),
        "precision_n": f"{g['right']}/{g['answers']}",
        "precision_high": _ratio(g["right_high"], g["answers_high"]),
        "precision_high_n": f"{g['right_high']}/{g['answers_high']}",
        "precision_medium": _ratio(g["right_medium"], g["answers_medium"]),
        "precision_medium_n": f"{g['right_medium']}/{g['answers_medium']}",
        "precision_high_or_medium": _ratio(hm_right, hm_answers),
        "precision_high_or_medium_n": f"{hm_right}/{hm_answers}",
        "precision_low": _ratio(g["right_low"], g["answers_low"]),
        "not_working_there_high_or_medium": g["outsider_high_medium"],
        "not_working_there_any_address": g["outsider_answered"],
        "not_working_there_rows": g["outsiders"],
        "company_only_coverage": _ratio(g["company_found"], g["company_findable"]),
        "company_only_coverage_n": f"{g['company_found']}/{g['company_findable']}",
        "company_only_domain_right": _ratio(g["company_domain_right"], g["company_rows"]),
        "direct_dial_coverage": _ratio(g["dial_found"], g["published"]),
        "direct_dial_coverage_n": f"{g['dial_found']}/{g['published']}",
        "phone_precision": _ratio(g["phone_right"], g["phone_answers"]),
        "phone_precision_n": f"{g['phone_right']}/{g['phone_answers']}",
        "phone_type_right": _ratio(g["phone_type_right"], g["phone_right"]),
        "switchboard_as_phone": g["switchboard_as_phone"],
        "other_company_line_as_phone": g["other_line_as_phone"],
        "company_phone_right": _ratio(g["company_phone_right"], g["company_phone_answers"]),
        "counts": dict(c),
    }


def by_kind(spec: Spec, answers: dict[int, Answer]) -> dict[str, dict[str, dict[str, int]]]:
    """Tallies per value of each breakdown axis (:data:`KIND_AXES`)."""
    result: dict[str, dict[str, dict[str, int]]] = {}
    for axis in KIND_AXES:
        groups: dict[str, list[Query]] = defaultdict(list)
        for row in spec.queries:
            groups[row.kinds.get(axis, "-")].append(row)
        result[axis] = {value: tally(rows, answers) for value, rows in sorted(groups.items())}
    return result


def _add(into: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value


def examples(spec: Spec, answers: dict[int, Answer], limit: int = 10) -> dict[str, list[Any]]:
    """Up to ``limit`` rows of each failure kind, for reading: wrong ``high``/``medium``
    e-mails, wrong phones, findable e-mails missed, published direct dials missed."""
    out: dict[str, list[Any]] = defaultdict(list)
    for row in spec.queries:
        a = answers.get(row.index) or Answer()
        region = row.kinds.get("region")
        email_right = bool(a.email) and (a.email or "").lower() == (row.email or "").lower()
        phone_right = bool(a.phone) and phone_key(a.phone, region) == phone_key(row.phone, region)
        found = {
            "wrong_email_high_medium": a.email
            and not email_right
            and a.confidence in ("high", "medium"),
            "wrong_phone": a.phone and not phone_right,
            "missed_email": row.ask_email
            and row.email_findable
            and reachable(row)
            and not email_right,
            "missed_dial": row.ask_phone
            and row.phone
            and row.employee
            and reachable(row)
            and not phone_right,
        }
        for kind, hit in found.items():
            if hit and len(out[kind]) < limit:
                out[kind].append(
                    {
                        "row": f"{row.first} {row.last}",
                        "website": row.website,
                        "company": row.company,
                        "domain": row.domain,
                        "kinds": row.kinds,
                        "employee": row.employee,
                        "email": [a.email, a.confidence, a.verification, row.email],
                        "phone": [a.phone, a.phone_type, a.company_phone, row.phone],
                    }
                )
    return dict(out)


async def run_seed(
    style: str, seed: int, companies: int, queries: int, jobs: bool = False
) -> dict[str, Any]:
    """Build the world for ``seed``, run both sides (and the product's bulk jobs when
    ``jobs``), score them."""
    spec = STYLES[style](seed, companies, queries)
    began = time.perf_counter()
    with LoopbackDns() as zone:
        publish(spec, zone)
        async with AsyncExitStack() as stack:
            web = await serve_web(spec, stack)
            extra = await knowledge_base(spec, stack)
            product, product_walls = await run_product(spec, zone, web, extra)
            naive, naive_walls = await run_naive(spec, zone, web)
            sides = [("product", product, product_walls), ("naive", naive, naive_walls)]
            if jobs:
                job_answers, job_walls, rejected = await run_product_jobs(spec, zone, web, extra)
                sides.append(("product_jobs", job_answers, job_walls))
    result: dict[str, Any] = {"seed": seed, "world": spec.summary}
    if jobs:
        result["jobs_rejected_rows"] = rejected
    for name, answers, walls in sides:
        counts = tally(spec.queries, answers)
        result[name] = {
            "counts": counts,
            "walls": {k: round(v, 2) for k, v in walls.items()},
            "by_kind": by_kind(spec, answers),
            "examples": examples(spec, answers),
            "verification": dict(
                sorted(
                    _count(a.verification or "none" for a in answers.values() if a.email).items()
                )
            ),
            "verification_by_mail": verification_by_mail(spec, answers),
        }
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


def verification_by_mail(spec: Spec, answers: dict[int, Answer]) -> dict[str, dict[str, int]]:
    """``{mail kind: {"<verification>/<confidence or none>": rows}}`` over find-email rows,
    answered or not (a greylisted lookup may answer no address and say why)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in spec.queries:
        if not row.ask_email:
            continue
        a = answers.get(row.index) or Answer()
        out[row.kinds["mail"]][f"{a.verification or 'none'}/{a.confidence or 'none'}"] += 1
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(out.items())}


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for value in values:
        out[value] += 1
    return dict(out)


def pooled(runs: list[dict[str, Any]], side: str) -> dict[str, Any]:
    """Figures of several seeds' runs pooled (counts summed), with summed wall times."""
    counts: dict[str, int] = {}
    walls: dict[str, float] = defaultdict(float)
    kinds: dict[str, dict[str, dict[str, int]]] = {}
    for run in runs:
        _add(counts, run[side]["counts"])
        for k, v in run[side]["walls"].items():
            walls[k] += v
        for axis, groups in run[side]["by_kind"].items():
            for value, tallies in groups.items():
                _add(kinds.setdefault(axis, {}).setdefault(value, {}), tallies)
    out = figures(counts)
    out["wall_seconds"] = {k: round(v, 1) for k, v in walls.items()} | {
        "total": round(sum(walls.values()), 1)
    }
    out["by_kind"] = {
        axis: {value: _brief(figures(t)) for value, t in groups.items()}
        for axis, groups in kinds.items()
    }
    return out


def _brief(f: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "email_coverage_n",
        "precision_n",
        "precision_high_n",
        "precision_high_or_medium_n",
        "not_working_there_high_or_medium",
        "direct_dial_coverage_n",
        "phone_precision_n",
        "switchboard_as_phone",
    )
    return {k: f[k] for k in keys}


def targets(product: dict[str, Any], naive: dict[str, Any]) -> dict[str, Any]:
    """Issue 8's targets (:data:`TARGETS`) with the product's held-out value and pass/fail
    (``None``: the world has no rows of that kind)."""

    def ratio(key: str) -> float | None:
        mine, theirs = product["wall_seconds"].get(key), naive["wall_seconds"].get(key)
        return round(mine / theirs, 2) if mine is not None and theirs else None

    values = {name: product.get(name) for name in TARGETS} | {
        "wall_ratio": ratio("total"),
        "wall_ratio_email": ratio("email"),
        "wall_ratio_phone": ratio("phone"),
    }
    result = {}
    for name, (goal, op) in TARGETS.items():
        value = values[name]
        ok = None  # no rows of that kind in this world
        if value is not None:
            ok = value >= goal if op == ">=" else value <= goal if op == "<=" else value == goal
        result[name] = {"target": f"{op} {goal}", "value": value, "pass": ok}
    return result


# -- report -----------------------------------------------------------------------------------

ROWS = (
    ("email coverage of findable", "email_coverage", "email_coverage_n"),
    ("email precision (all)", "precision", "precision_n"),
    ("precision high", "precision_high", "precision_high_n"),
    ("precision medium", "precision_medium", "precision_medium_n"),
    ("precision high+medium", "precision_high_or_medium", "precision_high_or_medium_n"),
    ("not working there: high/medium", "not_working_there_high_or_medium", None),
    ("not working there: any address", "not_working_there_any_address", None),
    ("company-only coverage (resolvable)", "company_only_coverage", "company_only_coverage_n"),
    ("company-only: domain right", "company_only_domain_right", None),
    ("direct-dial coverage (published)", "direct_dial_coverage", "direct_dial_coverage_n"),
    ("phone precision", "phone_precision", "phone_precision_n"),
    ("type right (of right numbers)", "phone_type_right", None),
    ("switchboard returned as phone", "switchboard_as_phone", None),
    ("fax/support returned as phone", "other_company_line_as_phone", None),
    ("companyPhone is the switchboard", "company_phone_right", None),
)


def _cell(f: dict[str, Any], key: str, count: str | None) -> str:
    value = f.get(key)
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.1%}" if value < 0.995 or value == 1 else f"{value:.2%}"
        return f"{text} ({f[count]})" if count else text
    return str(value)


def report(result: dict[str, Any]) -> Iterable[str]:
    held = result["held_out"]
    tune = result.get("tune")
    columns: list[tuple[str, dict[str, Any]]] = []
    if tune:
        columns += [(f"product tune s{tune['seed']}", tune["product"])]
    columns += [("product held-out", held["product"]), ("naive held-out", held["naive"])]
    if "product_jobs" in held:
        columns.insert(-1, ("product jobs held-out", held["product_jobs"]))
    for run in result["runs"]:
        if tune and run is tune["run"]:
            continue
        columns.append((f"prod s{run['seed']}", figures(run["product"]["counts"])))
        columns.append((f"naive s{run['seed']}", figures(run["naive"]["counts"])))
    width = 36
    yield (
        f"style {result['style']}, held-out seeds {result['seeds']}, "
        f"tune seed {result['tune_seed']}"
    )
    yield "| measure | " + " | ".join(name for name, _ in columns) + " |"
    yield "|---|" + "---|" * len(columns)
    for label, key, count in ROWS:
        yield f"| {label:{width}} | " + " | ".join(_cell(f, key, count) for _, f in columns) + " |"
    walls = [held["product"]["wall_seconds"], held["naive"]["wall_seconds"]]
    yield (
        f"wall (held-out, summed): product email {walls[0].get('email')} s + phone "
        f"{walls[0].get('phone')} s = {walls[0]['total']} s; naive {walls[1].get('email')} s + "
        f"{walls[1].get('phone')} s = {walls[1]['total']} s"
    )
    walls_by_seed = [
        (r["seed"], sum(r["product"]["walls"].values()), sum(r["naive"]["walls"].values()))
        for r in result["runs"]
    ]
    ratios = ", ".join(f"s{seed} {p / n:.2f}" for seed, p, n in walls_by_seed if n)
    yield f"wall product / naive per seed (the machine's load moves it): {ratios}"
    if "product_jobs" in held:
        refused = sum(r.get("jobs_rejected_rows", 0) for r in result["runs"])
        yield (
            f"bulk jobs (held-out, summed): {held['product_jobs']['wall_seconds']['total']} s; "
            f"rows the API refused (all seeds): {refused}"
        )
    yield ""
    yield "Done-when targets (held-out, product):"
    for name, t in result["targets"].items():
        mark = "n/a " if t["pass"] is None else "PASS" if t["pass"] else "FAIL"
        yield f"  {mark}  {name}: {t['value']} (target {t['target']})"
    yield ""
    yield (
        "by kind (held-out; product | naive): email found/findable, precision, high, "
        "dials, phone precision, switchboard"
    )
    for axis, groups in held["product"]["by_kind"].items():
        yield f"  {axis}:"
        for value, p in groups.items():
            n = held["naive"]["by_kind"][axis][value]
            yield (
                f"    {value:22} email {p['email_coverage_n']:>7} | {n['email_coverage_n']:>7}  "
                f"prec {p['precision_n']:>7} | {n['precision_n']:>7}  "
                f"high {p['precision_high_n']:>7}  "
                f"dials {p['direct_dial_coverage_n']:>6} | {n['direct_dial_coverage_n']:>6}  "
                f"phone prec {p['phone_precision_n']:>7} | {n['phone_precision_n']:>7}  "
                f"switchboard {p['switchboard_as_phone']} | {n['switchboard_as_phone']}"
            )


KIND_ROWS = (
    ("mail", "strict", "strict"),
    ("mail", "catch_all_samples", "catch-all, samples on the site"),
    ("mail", "catch_all_bare", "catch-all, no samples"),
    ("mail", "greylist", "greylisting"),
    ("mail", "tarpit", "tarpit"),
    ("mail", "connection_limit", "one session at a time"),
    ("mail", "implicit_mx", "implicit MX"),
    ("mail", "dead_primary_mx", "dead primary MX"),
    ("mail", "null_mx", "null MX"),
    ("mode", "website", "website rows"),
    ("mode", "website+company", "website + company rows"),
    ("mode", "company", "company-name-only rows"),
    ("name", "namesake_middle", "namesake with middle initial (`daniel.j.moreau`)"),
    ("name", "numbered", "numbered address (`first.last2`)"),
    ("name", "namesake_plain", "the plain namesake of one of those"),
    ("name", "middle_initial", "middle initial the mailbox ignores"),
    ("name", "outsider_same_first", "not working there, same first name as staff"),
    ("layout", "cards", "layout: cards"),
    ("layout", "table", "layout: table"),
    ("layout", "dl", "layout: definition list"),
    ("layout", "jsonld", "layout: JSON-LD `Person`"),
    ("layout", "vcard", "layout: vCard downloads"),
    ("layout", "hcard", "layout: h-card"),
    ("layout", "unlisted", "person not on the site"),
    ("layout", "none", "site without a team page"),
)
"""Rows of the docs' per-kind table: (axis, value, label)."""


def _pair(p: dict[str, Any], n: dict[str, Any], key: str) -> str:
    if p[key] in ("0/0", 0) and n[key] in ("0/0", 0):
        return "–"
    return f"{p[key]} \\| {n[key]}"


def markdown(result: dict[str, Any]) -> Iterable[str]:
    """The docs' tables for a saved result: the measures (held-out product and naive, the
    tune seed) and the per-kind breakdown (held-out, product | naive)."""
    held = result["held_out"]
    product, naive = held["product"], held["naive"]
    tune = (result.get("tune") or {}).get("product")
    yield "| measure | product | naive | product, tune seed |"
    yield "|---|---|---|---|"
    for label, key, count in ROWS:
        cells = [_cell(product, key, count), _cell(naive, key, count)]
        cells.append(_cell(tune, key, count) if tune else "–")
        yield f"| {label} | " + " | ".join(cells) + " |"
    pw, nw = product["wall_seconds"], naive["wall_seconds"]
    t = result["targets"]
    yield (
        f"| wall time, e-mail + phone passes | {pw.get('email')} s + {pw.get('phone')} s | "
        f"{nw.get('email')} s + {nw.get('phone')} s | – |"
    )
    yield (
        f"| product / naive wall time (both; e-mail; phone) | {t['wall_ratio']['value']}; "
        f"{t['wall_ratio_email']['value']}; {t['wall_ratio_phone']['value']} | – | – |"
    )
    yield ""
    yield (
        "| kind | email found / findable | precision (all) | `high` right | direct dials found "
        "| switchboard as `phone` |"
    )
    yield "|---|---|---|---|---|---|"
    for axis, value, label in KIND_ROWS:
        p = product["by_kind"].get(axis, {}).get(value)
        n = naive["by_kind"].get(axis, {}).get(value)
        if not p or not n:
            continue
        high = p["precision_high_n"] if p["precision_high_n"] != "0/0" else "–"
        yield (
            f"| {label} | {_pair(p, n, 'email_coverage_n')} | {_pair(p, n, 'precision_n')} | "
            f"{high} | {_pair(p, n, 'direct_dial_coverage_n')} | "
            f"{_pair(p, n, 'switchboard_as_phone')} |"
        )


async def run(
    style: str,
    tune_seed: int | None,
    seeds: list[int],
    companies: int,
    queries: int,
    jobs: bool = False,
) -> dict[str, Any]:
    runs = []
    tune = None
    for seed in ([tune_seed] if tune_seed is not None else []) + seeds:
        began = time.perf_counter()
        one = await run_seed(style, seed, companies, queries, jobs)
        print(f"seed {seed}: {time.perf_counter() - began:.0f} s", flush=True)
        runs.append(one)
        if seed == tune_seed:
            tune = {"seed": seed, "run": one, "product": figures(one["product"]["counts"])}
    held_runs = [r for r in runs if r["seed"] in seeds]
    held = {"product": pooled(held_runs, "product"), "naive": pooled(held_runs, "naive")}
    if jobs:
        held["product_jobs"] = pooled(held_runs, "product_jobs")
    return {
        "style": style,
        "tune_seed": tune_seed,
        "seeds": seeds,
        "companies": companies,
        "queries": queries,
        "concurrency": CONCURRENCY,
        "held_out": held,
        "targets": targets(held["product"], held["naive"]),
        "tune": tune,
        "runs": runs,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="bench generalization", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--style", choices=sorted(STYLES), default="field")
    parser.add_argument("--tune-seed", type=int, default=TUNE_SEED, help="-1 to skip it")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(HELD_OUT))
    parser.add_argument("--companies", type=int, default=None, help=f"default {COMPANIES}")
    parser.add_argument(
        "--queries", type=int, default=None, help=f"rows per seed; default {QUERIES}"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_COMPANIES} companies, {QUICK_QUERIES} rows, "
        "first held-out seed only, no tune seed",
    )
    parser.add_argument("--tag", default="", help="suffix of the results file name")
    parser.add_argument(
        "--jobs",
        action="store_true",
        help="also send every row as bulk enrich jobs on a fresh app (adds ~1-2 min per seed)",
    )
    parser.add_argument(
        "--markdown", metavar="JSON", help="print the docs' tables for a saved result and stop"
    )
    parser.add_argument(
        "--tune-only",
        action="store_true",
        help="only the tune seed, for quick looks while changing the product (tag 'tune')",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        for line in markdown(json.loads(Path(args.markdown).read_text())):
            print(line)
        return
    companies = args.companies or (QUICK_COMPANIES if args.quick else COMPANIES)
    queries = args.queries or (QUICK_QUERIES if args.quick else QUERIES)
    seeds = args.seeds[:1] if args.quick else args.seeds
    tune_seed = None if args.quick or args.tune_seed < 0 else args.tune_seed
    if args.tune_only:  # the tune seed scored alone, in the held-out columns
        seeds, tune_seed, args.tag = [args.tune_seed], None, args.tag or "tune"
    if tune_seed in seeds:
        parser.error("the tune seed must not be one of the held-out seeds")
    result = asyncio.run(run(args.style, tune_seed, seeds, companies, queries, args.jobs))
    for line in report(result):
        print(line)
    if result["tune"]:
        result["tune"] = {k: v for k, v in result["tune"].items() if k != "run"}
    name = (
        f"generalization_{args.style}"
        + ("_quick" if args.quick else "")
        + (f"_{args.tag}" if args.tag else "")
    )
    print(f"saved {save(name, result)}")
