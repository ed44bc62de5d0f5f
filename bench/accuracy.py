"""Accuracy: how many right addresses the product finds, how few wrong ones it returns, and how
many SMTP probes it spends, against a naive permutation prober on the same loopback world.

``./run bench accuracy [--seed N] [--domains N] [--people N] [--singles N] [--known N] [--quick]``

``--quick`` is a 20-domain, 150-lookup smoke run (~25 s); the default world takes about a minute
on 2 cores. Results go to ``bench/results/accuracy[_quick][_knownN].json``.

The world (:mod:`bench.world`: ≥ 50 ``.test`` domains and ≥ 500 lookups by default) is served by
one :class:`~leadsonar.testing.dnsserver.LoopbackDns` and one
:class:`~leadsonar.testing.smtpserver.SmtpWorld` per run on ``127.0.1.x`` — nothing leaves
loopback. Two runs over fresh SMTP servers (so greylisting and session state start clean):

**Product**: the real app in-process (:class:`~leadsonar.testing.live.LiveServer`, SQLite in a
temporary folder, default settings apart from DNS, loopback, port, prober identity, the rate
limit and :data:`SCALED_SETTINGS`; any other ``LEADSONAR_*`` variable set in the environment
applies too). With ``--known N`` (default 0: a cold start), N unlisted colleagues per domain are
first imported as known contacts, as ``leadsonar import`` would. Lookups go through the HTTP API
in three phases:

1. *warm-up*: the first three lookups of every domain (in the world's shuffled order), as
   ``POST /api/v1/enrich`` jobs of at most 100 contacts, polled until done;
2. *main*: every other lookup but the singles, as jobs the same way;
3. *singles*: a seeded sample sent one at a time to ``POST /api/v1/find-email``.

**Naive**: for each person, the first MX host (resolved on the loopback DNS), one new SMTP
session, RCPT for each of :data:`NAIVE_PATTERNS` in order over an ASCII-stripped name (letters
without their accents; other characters dropped), answer the first ``250``; no catch-all check,
no retries; :data:`NAIVE_CONCURRENCY` people at a time, in the same phase split.

Figures (printed, and saved by :func:`bench.common.save` to ``bench/results/accuracy.json``):

* *coverage*: findable lookups (see :mod:`bench.world`) answered with their address, over all
  findable ones, whatever the answer's confidence; also for ``verify`` (domains whose RCPT
  replies tell) and ``guess`` (catch-all and blocked domains) separately, and counting only
  ``high``/``medium`` answers;
* *precision*: right answers over all answers, overall and per confidence level; an answer is
  right when it is the person's working address. Namesakes (same name, same domain) are scored
  as a group: each true address can be matched by one answer only, so two ``high`` answers of
  the same address for two namesakes are one right and one wrong;
* *wrong answers for people who do not work there*, and every wrong answer with its domain's
  server kind and pattern;
* *SMTP work* from the servers' own counters: connections and RCPTs per lookup overall, and
  *warm* RCPTs per lookup = RCPTs of the main and singles phases over their lookups, i.e.
  after each domain's first three lookups were answered; also the per-job ``smtpConnections``
  / ``smtpRcpts`` the API reports. Attempts on a dead MX host are refused by the kernel and
  counted by no server;
* RCPTs per single ``find-email`` call (exact: calls are made one at a time), for employees and
  for people who do not work there;
* wall time per phase;
* the issue's targets with pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.asyncresolver
import dns.exception
import httpx

from bench.common import save
from bench.world import GREYLIST_DELAY, World, generate
from bench.world import Lookup as Person
from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld

SEED = 7
DOMAINS = 60
PEOPLE = 600
QUICK_DOMAINS = 20
QUICK_PEOPLE = 150
WARM_UP_PER_DOMAIN = 3
JOB_SIZE = 100
POLL_SECONDS = 0.25
JOBS_TIMEOUT = 900.0  # seconds a phase's jobs may take before the run gives up on them
NAIVE_CONCURRENCY = 8
NAIVE_TIMEOUT = 10.0  # seconds per connect / reply in the naive prober

TARGET_COVERAGE = 0.98
TARGET_PRECISION_HIGH = 0.995
TARGET_WARM_RCPTS = 1.5

NAIVE_PATTERNS = (
    "{first}.{last}",
    "{first}",
    "{f}{last}",
    "{first}{last}",
    "{f}.{last}",
    "{first}_{last}",
    "{first}{l}",
    "{last}",
    "{last}{f}",
    "{first}-{last}",
    "{last}.{first}",
    "{last}{first}",
)
"""The naive prober's permutations, tried in this order."""

CONFIDENCES = ("high", "medium", "low")

SCALED_SETTINGS: dict[str, object] = {"smtp_greylist_delay": GREYLIST_DELAY + 0.5}
"""Product settings scaled like the world: its greylisting passes after 1.5 s instead of the
minutes real servers ask, so the prober's retry delay (default 65 s) is scaled down the same
way, as an operator facing such servers would set it. A ``LEADSONAR_*`` variable for one of
these wins; a name the product does not know is ignored (``Settings`` ignores extras)."""


@dataclass
class Answer:
    """What a prober said for one lookup."""

    email: str | None
    confidence: str | None = None
    verification: str | None = None
    channel: str = "job"
    connections: int | None = None  # servers' count, for single calls (made one at a time)
    rcpts: int | None = None
    seconds: float | None = None


@dataclass
class Phase:
    """One phase of a run: which lookups, how long, and the SMTP work the servers saw."""

    name: str
    lookups: list[Person]
    seconds: float = 0.0
    connections: int = 0
    rcpts: int = 0
    api_connections: int | None = None
    api_rcpts: int | None = None
    rcpts_by_behaviour: dict[str, int] | None = None
    by_domain: dict[str, tuple[int, int]] | None = None


# --------------------------------------------------------------------------------------------
# Servers


async def serve(world: World, smtp: SmtpWorld) -> None:
    """Start every domain's SMTP server (dead MX hosts get none, so they refuse connections)."""
    for domain in world.domains:
        await smtp.serve(domain.live_host.ip, **domain.smtp_behaviour())


def publish(world: World, dns_zone: LoopbackDns) -> None:
    """Put every domain's MX records and their hosts' A records in the loopback zone."""
    for domain in world.domains:
        dns_zone.add_mx(domain.name, [(host.preference, host.name) for host in domain.mx])
        for host in domain.mx:
            dns_zone.add_a(host.name, host.ip)


def counters(world: World, smtp: SmtpWorld) -> dict[str, tuple[int, int]]:
    """``{domain: (connections, rcpts)}`` from the servers' own counters."""
    result = {}
    for domain in world.domains:
        server = smtp.servers[domain.live_host.ip]
        result[domain.name] = (server.connections, server.rcpt_count)
    return result


def _work(
    world: World,
    before: dict[str, tuple[int, int]],
    after: dict[str, tuple[int, int]],
    phase: Phase,
) -> None:
    kinds = world.by_domain
    by_behaviour: Counter[str] = Counter()
    phase.by_domain = {}
    for name, (connections, rcpts) in after.items():
        spent = (connections - before[name][0], rcpts - before[name][1])
        phase.by_domain[name] = spent
        phase.connections += spent[0]
        phase.rcpts += spent[1]
        by_behaviour[kinds[name].behaviour] += spent[1]
    phase.rcpts_by_behaviour = dict(by_behaviour)


def split(world: World, singles: int, seed: int) -> tuple[list[Person], list[Person], list[Person]]:
    """Warm-up (first three lookups per domain), main and singles lookups."""
    seen: Counter[str] = Counter()
    warm_up, rest = [], []
    for person in world.lookups:
        seen[person.domain] += 1
        (warm_up if seen[person.domain] <= WARM_UP_PER_DOMAIN else rest).append(person)
    chosen = set(random.Random(seed + 1).sample(range(len(rest)), min(singles, len(rest))))
    main = [p for i, p in enumerate(rest) if i not in chosen]
    single = [p for i, p in enumerate(rest) if i in chosen]
    return warm_up, main, single


# --------------------------------------------------------------------------------------------
# The product over HTTP


def _contact(person: Person) -> dict[str, str]:
    return {"firstName": person.first, "lastName": person.last, "website": person.domain}


async def run_jobs(
    client: httpx.AsyncClient, people: Sequence[Person], answers: dict[int, Answer]
) -> tuple[int | None, int | None]:
    """Submit ``people`` as enrich jobs of ≤ :data:`JOB_SIZE`, poll until all are done and
    record their answers. Returns the jobs' reported (smtpConnections, smtpRcpts) sums, or
    ``None`` for a field the API does not report."""
    jobs: dict[str, list[Person]] = {}
    for start in range(0, len(people), JOB_SIZE):
        chunk = list(people[start : start + JOB_SIZE])
        body = {"contacts": [_contact(p) for p in chunk], "findEmail": True}
        response = await client.post("/api/v1/enrich", json=body)
        response.raise_for_status()
        jobs[response.json()["jobId"]] = chunk
    pending = dict(jobs)
    reported: dict[str, list[int]] = defaultdict(list)
    deadline = time.monotonic() + JOBS_TIMEOUT
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} enrich job(s) not done after {JOBS_TIMEOUT:g} s")
        await asyncio.sleep(POLL_SECONDS)
        for job_id, chunk in list(pending.items()):
            response = await client.get(f"/api/v1/enrich/{job_id}")
            response.raise_for_status()
            status = response.json()
            if status["status"] == "processing":
                continue
            for result in status["results"]:
                person = chunk[result["position"]]
                answers[person.index] = Answer(result.get("email"), result.get("confidence"))
            for field in ("smtpConnections", "smtpRcpts"):
                if field in status:
                    reported[field].append(int(status[field]))
            del pending[job_id]
    connections = sum(reported["smtpConnections"]) if reported["smtpConnections"] else None
    rcpts = sum(reported["smtpRcpts"]) if reported["smtpRcpts"] else None
    return connections, rcpts


async def run_singles(
    client: httpx.AsyncClient,
    people: Sequence[Person],
    answers: dict[int, Answer],
    spent: Callable[[str], tuple[int, int]],
) -> tuple[int | None, int | None]:
    """``POST /find-email`` for each person, one at a time, recording the SMTP work the
    domain's server saw during each call (``spent(domain)`` → (connections, RCPTs) so far).
    Returns reported SMTP work sums (``None`` while answers carry no ``smtpConnections`` /
    ``smtpRcpts``)."""
    reported: dict[str, list[int]] = defaultdict(list)
    for person in people:
        before = spent(person.domain)
        began = time.perf_counter()
        response = await client.post("/api/v1/find-email", json=_contact(person))
        response.raise_for_status()
        body = response.json()
        after = spent(person.domain)
        answers[person.index] = Answer(
            body.get("email"),
            body.get("confidence"),
            body.get("verification"),
            "single",
            connections=after[0] - before[0],
            rcpts=after[1] - before[1],
            seconds=round(time.perf_counter() - began, 3),
        )
        for field in ("smtpConnections", "smtpRcpts"):
            if field in body:
                reported[field].append(int(body[field]))
    connections = sum(reported["smtpConnections"]) if reported["smtpConnections"] else None
    rcpts = sum(reported["smtpRcpts"]) if reported["smtpRcpts"] else None
    return connections, rcpts


async def import_known(live: LiveServer, world: World, per_domain: int) -> int:
    """Import up to ``per_domain`` unlisted colleagues per domain as known contacts, the way
    ``leadsonar import`` stores a CSV (their addresses become pattern evidence). Returns the
    number of rows imported."""
    rows = [
        {
            "firstname": first,
            "lastname": last,
            "company": "",
            "website": domain.name,
            "email": address,
            "phone": "",
        }
        for domain in world.domains
        for first, last, address in domain.colleagues[:per_domain]
    ]
    if rows:
        owner = await live.account_id("accuracy")
        async with live.services.db.session() as session:
            await import_rows(session, list(enumerate(rows, start=2)), ImportReport(), owner)
    return len(rows)


async def run_product(
    world: World, dns_zone: LoopbackDns, phases: list[Phase], known: int = 0
) -> dict[int, Answer]:
    """The product through its HTTP API over fresh servers; fills each phase's figures.
    ``known``: colleagues per domain imported first (:func:`import_known`)."""
    answers: dict[int, Answer] = {}
    async with SmtpWorld(world.hosts()) as smtp:
        await serve(world, smtp)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'accuracy.db'}",
                dns_servers=[dns_zone.address],
                allowed_private_networks="127.0.0.0/8",
                smtp_port=smtp.port,
                smtp_helo_name="probe.leadsonar.test",
                smtp_mail_from="verify@probe.leadsonar.test",
                rate_limit="100000/second",
                **{
                    name: value
                    for name, value in SCALED_SETTINGS.items()
                    if f"LEADSONAR_{name.upper()}" not in os.environ
                },
            )
            async with LiveServer(settings) as live:
                key = await live.create_account("accuracy", credits=len(world.lookups) + 10)
                await import_known(live, world, known)
                async with httpx.AsyncClient(
                    base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=180
                ) as client:
                    for phase in phases:
                        before = counters(world, smtp)
                        began = time.perf_counter()
                        if phase.name == "singles":
                            work = await run_singles(
                                client,
                                phase.lookups,
                                answers,
                                lambda domain: counters(world, smtp)[domain],
                            )
                        else:
                            work = await run_jobs(client, phase.lookups, answers)
                        phase.api_connections, phase.api_rcpts = work
                        phase.seconds = time.perf_counter() - began
                        _work(world, before, counters(world, smtp), phase)
    return answers


# --------------------------------------------------------------------------------------------
# The naive prober (the baseline, deliberately simple)


def _naive_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z]", "", decomposed.encode("ascii", "ignore").decode())


def naive_candidates(first: str, last: str) -> list[str]:
    """Every :data:`NAIVE_PATTERNS` local part for the ASCII-stripped name (``[]`` when the
    name has no Latin letters left)."""
    f, la = _naive_ascii(first), _naive_ascii(last)
    if not f or not la:
        return []
    parts = (p.format(first=f, last=la, f=f[0], l=la[0]) for p in NAIVE_PATTERNS)
    return list(dict.fromkeys(parts))


async def _reply(reader: asyncio.StreamReader) -> int:
    """Read one (possibly multi-line) reply; its code."""
    while True:
        line = await asyncio.wait_for(reader.readline(), NAIVE_TIMEOUT)
        if not line:
            raise ConnectionError("closed")
        if line[3:4] != b"-":
            return int(line[:3])


async def naive_probe(
    person: Person, resolver: dns.asyncresolver.Resolver, port: int
) -> str | None:
    """The naive answer for one person: the first candidate the first MX accepts, or None."""
    candidates = naive_candidates(person.first, person.last)
    if not candidates:
        return None
    try:
        mx = await resolver.resolve(person.domain, "MX")
        first_mx = min(mx, key=lambda r: r.preference).exchange.to_text()  # type: ignore[attr-defined]
        ip = (await resolver.resolve(first_mx, "A"))[0].to_text()
        reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), NAIVE_TIMEOUT)
    except (OSError, TimeoutError, dns.exception.DNSException):
        return None

    async def send(line: str) -> int:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        return await _reply(reader)

    try:
        if await _reply(reader) != 220:
            return None
        if (
            await send("EHLO naive.bench.test") != 250
            and await send("HELO naive.bench.test") != 250
        ):
            return None
        if await send("MAIL FROM:<probe@naive.bench.test>") != 250:
            return None
        for local in candidates:
            address = f"{local}@{person.domain}"
            if await send(f"RCPT TO:<{address}>") == 250:
                return address
        return None
    except (OSError, TimeoutError, ValueError):
        return None
    finally:
        try:
            writer.write(b"QUIT\r\n")
            writer.close()
            await writer.wait_closed()
        except OSError:
            pass


async def run_naive(world: World, dns_zone: LoopbackDns, phases: list[Phase]) -> dict[int, Answer]:
    """The naive prober over fresh servers, phase by phase; fills each phase's figures."""
    answers: dict[int, Answer] = {}
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns_zone.host]
    resolver.port = dns_zone.port or 53
    resolver.lifetime = 5.0
    semaphore = asyncio.Semaphore(NAIVE_CONCURRENCY)
    async with SmtpWorld(world.hosts()) as smtp:
        await serve(world, smtp)

        async def one(person: Person) -> None:
            async with semaphore:
                answers[person.index] = Answer(await naive_probe(person, resolver, smtp.port))

        for phase in phases:
            before = counters(world, smtp)
            began = time.perf_counter()
            await asyncio.gather(*(one(p) for p in phase.lookups))
            phase.seconds = time.perf_counter() - began
            _work(world, before, counters(world, smtp), phase)
    return answers


# --------------------------------------------------------------------------------------------
# Scoring


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Outcome:
    """How one lookup scored: ``verdict`` of its answer (``right``, ``wrong``, ``none``) and
    the confidence of the answer that returned its true address (``None``: not found)."""

    verdict: str
    found_by: str | None

    @property
    def found(self) -> bool:
        return self.found_by is not None


def outcomes(world: World, answers: dict[int, Answer]) -> dict[int, Outcome]:
    """Score every lookup. Namesakes (same name and domain) are scored as a group: an answer
    that is the person's own address is right; one that is a namesake's not yet returned
    address is right too (the two requests are identical); any other address, or one already
    returned to a namesake, is wrong."""
    groups: dict[tuple[str, str, str], list[Person]] = defaultdict(list)
    for person in world.lookups:
        groups[(person.first, person.last, person.domain)].append(person)
    result: dict[int, Outcome] = {}
    for members in groups.values():
        emails = {}
        for person in members:
            answer = answers.get(person.index)
            emails[person.index] = (answer.email or "").lower() if answer else ""
        truths = {(p.truth or "").lower(): p for p in members if p.truth}
        verdicts: dict[int, str] = {}
        found_by: dict[str, str] = {}
        own_first = sorted(members, key=lambda p: emails[p.index] != (p.truth or "").lower())
        for person in own_first:
            email = emails[person.index]
            if not email:
                verdicts[person.index] = "none"
            elif email in truths and email not in found_by:
                answer = answers[person.index]
                found_by[email] = answer.confidence or "none"
                verdicts[person.index] = "right"
            else:
                verdicts[person.index] = "wrong"
        for person in members:
            by = found_by.get((person.truth or "").lower()) if person.truth else None
            result[person.index] = Outcome(verdicts[person.index], by)
    return result


def _why(person: Person, answer: Answer, world: World) -> str:
    """A short label for a wrong answer, most specific first:

    ``shadowed`` (not working there; the address is a colleague's), ``non_employee`` (not
    working there), ``namesake`` (the address of someone with the same name), ``disabled``
    (the person's own disabled mailbox), ``someone_elses_mailbox``, ``wrong_guess`` (on a
    catch-all or blocked domain), ``nonexistent_address`` (on a domain that tells)."""
    domain = world.by_domain[person.domain]
    email = (answer.email or "").lower()
    if not person.employee:
        return "shadowed" if email in domain.mailboxes else "non_employee"
    if any(
        (p.first, p.last, p.domain) == (person.first, person.last, person.domain)
        and p.index != person.index
        and (p.mailbox or "").lower() == email
        for p in world.lookups
    ):
        return "namesake"
    if person.state == "disabled" and email == (person.mailbox or "").lower():
        return "disabled"
    if email in domain.mailboxes:
        return "someone_elses_mailbox"
    if domain.behaviour in ("catch_all", "blocked"):
        return "wrong_guess"
    return "nonexistent_address"


def score(world: World, answers: dict[int, Answer], phases: list[Phase]) -> dict[str, Any]:
    """Every figure of one run (see the module)."""
    by_domain = world.by_domain
    result = outcomes(world, answers)
    people = world.lookups
    findable = [p for p in people if p.findable]
    answered = [p for p in people if result[p.index].verdict != "none"]
    right = [p for p in answered if result[p.index].verdict == "right"]

    def coverage(kind: str | None) -> dict[str, Any]:
        pool = [p for p in findable if kind is None or p.findable == kind]
        found = sum(result[p.index].found for p in pool)
        confident = sum(result[p.index].found_by in ("high", "medium") for p in pool)
        return {
            "findable": len(pool),
            "found": found,
            "coverage": _ratio(found, len(pool)),
            "found_high_or_medium": confident,
            "coverage_high_or_medium": _ratio(confident, len(pool)),
        }

    by_confidence = {}
    for level in (*CONFIDENCES, None):
        pool = [p for p in answered if answers[p.index].confidence == level]
        if level is None and not pool:
            continue
        good = sum(result[p.index].verdict == "right" for p in pool)
        by_confidence[level or "none"] = {
            "answers": len(pool),
            "right": good,
            "precision": _ratio(good, len(pool)),
        }

    non_employees = [p for p in people if not p.employee]
    wrong_for_absent = [p for p in non_employees if result[p.index].verdict == "wrong"]

    by_behaviour: dict[str, dict[str, Any]] = {}
    for kind in sorted({d.behaviour for d in world.domains}):
        pool = [p for p in people if by_domain[p.domain].behaviour == kind]
        pool_findable = [p for p in pool if p.findable]
        pool_answered = [p for p in pool if result[p.index].verdict != "none"]
        wrong = [p for p in pool_answered if result[p.index].verdict == "wrong"]
        by_behaviour[kind] = {
            "domains": sum(d.behaviour == kind for d in world.domains),
            "lookups": len(pool),
            "findable": len(pool_findable),
            "found": sum(result[p.index].found for p in pool_findable),
            "coverage": _ratio(
                sum(result[p.index].found for p in pool_findable), len(pool_findable)
            ),
            "answers": len(pool_answered),
            "wrong": len(wrong),
            "wrong_high": sum(answers[p.index].confidence == "high" for p in wrong),
            "confidence": dict(Counter(str(answers[p.index].confidence) for p in pool_answered)),
        }

    by_tag: dict[str, dict[str, Any]] = {}
    for tag in sorted({t for p in people for t in p.tags}):
        pool = [p for p in people if tag in p.tags]
        pool_findable = [p for p in pool if p.findable]
        by_tag[tag] = {
            "lookups": len(pool),
            "findable": len(pool_findable),
            "found": sum(result[p.index].found for p in pool_findable),
            "wrong": sum(result[p.index].verdict == "wrong" for p in pool),
        }

    wrong_answers = []
    for p in answered:
        if result[p.index].verdict != "wrong":
            continue
        answer = answers[p.index]
        domain = by_domain[p.domain]
        wrong_answers.append(
            {
                "person": f"{p.first} {p.last}",
                "domain": p.domain,
                "behaviour": domain.behaviour,
                "pattern": domain.pattern,
                "answer": answer.email,
                "confidence": answer.confidence,
                "verification": answer.verification,
                "truth": p.truth,
                "why": _why(p, answer, world),
                "channel": answer.channel,
            }
        )
    missed = []
    for p in findable:
        if result[p.index].found:
            continue
        answer = answers.get(p.index) or Answer(None)
        missed.append(
            {
                "person": f"{p.first} {p.last}",
                "domain": p.domain,
                "behaviour": by_domain[p.domain].behaviour,
                "pattern": by_domain[p.domain].pattern,
                "findable": p.findable,
                "truth": p.truth,
                "answer": answer.email,
                "confidence": answer.confidence,
                "tags": list(p.tags),
            }
        )

    singles = [p for p in people if p.index in answers and answers[p.index].rcpts is not None]
    single_calls = [
        {
            "person": f"{p.first} {p.last}",
            "domain": p.domain,
            "behaviour": by_domain[p.domain].behaviour,
            "employee": p.employee,
            "answer": answers[p.index].email,
            "confidence": answers[p.index].confidence,
            "verdict": result[p.index].verdict,
            "connections": answers[p.index].connections,
            "rcpts": answers[p.index].rcpts,
            "seconds": answers[p.index].seconds,
        }
        for p in singles
    ]

    def mean_rcpts(pool: list[Person]) -> float | None:
        return _ratio(sum(answers[p.index].rcpts or 0 for p in pool), len(pool))

    lookups = len(people)
    connections = sum(ph.connections for ph in phases)
    rcpts = sum(ph.rcpts for ph in phases)
    warm = [ph for ph in phases if ph.name != "warm-up"]
    warm_lookups = sum(len(ph.lookups) for ph in warm)
    warm_by_behaviour: Counter[str] = Counter()
    warm_people: Counter[str] = Counter()
    for ph in warm:
        warm_by_behaviour.update(ph.rcpts_by_behaviour or {})
        warm_people.update(by_domain[p.domain].behaviour for p in ph.lookups)
    api = [ph for ph in phases if ph.api_rcpts is not None]
    per_domain = []
    for domain in world.domains:
        pool = [p for p in people if p.domain == domain.name]
        warm_pool = sum(p.domain == domain.name for ph in warm for p in ph.lookups)
        spent = [(ph.by_domain or {}).get(domain.name, (0, 0)) for ph in phases]
        warm_spent = [(ph.by_domain or {}).get(domain.name, (0, 0)) for ph in warm]
        per_domain.append(
            {
                "domain": domain.name,
                "behaviour": domain.behaviour,
                "pattern": domain.pattern,
                "lookups": len(pool),
                "findable": sum(bool(p.findable) for p in pool),
                "found": sum(result[p.index].found for p in pool if p.findable),
                "wrong": sum(result[p.index].verdict == "wrong" for p in pool),
                "connections": sum(c for c, _ in spent),
                "rcpts": sum(r for _, r in spent),
                "warm_rcpts_per_lookup": _ratio(sum(r for _, r in warm_spent), warm_pool),
            }
        )
    return {
        "lookups": lookups,
        "answers": len(answered),
        "right": len(right),
        "precision": _ratio(len(right), len(answered)),
        "precision_by_confidence": by_confidence,
        "coverage": coverage(None),
        "coverage_verifiable": coverage("verify"),
        "coverage_guess_only": coverage("guess"),
        "non_employees": {
            "lookups": len(non_employees),
            "answered": len(wrong_for_absent),
            "by_confidence": dict(
                Counter(str(answers[p.index].confidence) for p in wrong_for_absent)
            ),
        },
        "wrong_by_reason": dict(Counter(w["why"] for w in wrong_answers).most_common()),
        "smtp": {
            "connections": connections,
            "rcpts": rcpts,
            "connections_per_lookup": _ratio(connections, lookups),
            "rcpts_per_lookup": _ratio(rcpts, lookups),
            "warm_rcpts_per_lookup": _ratio(sum(ph.rcpts for ph in warm), warm_lookups),
            "warm_rcpts_per_lookup_by_behaviour": {
                kind: _ratio(warm_by_behaviour[kind], warm_people[kind])
                for kind in sorted(warm_people)
            },
            "api_reported": {
                "connections": sum(ph.api_connections or 0 for ph in api),
                "rcpts": sum(ph.api_rcpts or 0 for ph in api),
                "servers_counted_connections": sum(ph.connections for ph in api),
                "servers_counted_rcpts": sum(ph.rcpts for ph in api),
                "phases": [ph.name for ph in api],
            }
            if api
            else None,
        },
        "phases": [
            {
                "phase": ph.name,
                "lookups": len(ph.lookups),
                "seconds": round(ph.seconds, 2),
                "connections": ph.connections,
                "rcpts": ph.rcpts,
                "api_connections": ph.api_connections,
                "api_rcpts": ph.api_rcpts,
            }
            for ph in phases
        ],
        "wall_seconds": round(sum(ph.seconds for ph in phases), 2),
        "by_behaviour": by_behaviour,
        "by_tag": by_tag,
        "by_domain": per_domain,
        "single_calls": {
            "rcpts_per_call": mean_rcpts(singles),
            "rcpts_per_call_employees": mean_rcpts([p for p in singles if p.employee]),
            "rcpts_per_call_non_employees": mean_rcpts([p for p in singles if not p.employee]),
            "calls": single_calls,
        },
        "wrong_answers": wrong_answers,
        "missed": missed,
    }


def targets(product: dict[str, Any], naive: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's targets with the product's value and pass/fail."""
    coverage = product["coverage"]["coverage"] or 0.0
    high = product["precision_by_confidence"].get("high", {})
    warm = product["smtp"]["warm_rcpts_per_lookup"]
    naive_coverage = naive["coverage"]["coverage"] or 0.0
    fewer = product["smtp"]["rcpts"] < naive["smtp"]["rcpts"]
    return {
        "coverage_of_findable": {
            "target": f">= {TARGET_COVERAGE:.0%}",
            "value": coverage,
            "pass": coverage >= TARGET_COVERAGE,
        },
        "precision_high": {
            "target": f">= {TARGET_PRECISION_HIGH:.1%}",
            "value": high.get("precision"),
            "answers": high.get("answers", 0),
            "pass": bool(high.get("answers")) and high["precision"] >= TARGET_PRECISION_HIGH,
        },
        "warm_rcpts_per_lookup": {
            "target": f"<= {TARGET_WARM_RCPTS}",
            "value": warm,
            "pass": warm is not None and warm <= TARGET_WARM_RCPTS,
        },
        "fewer_probes_than_naive_at_equal_or_better_coverage": {
            "target": "product RCPTs < naive RCPTs and product coverage >= naive coverage",
            "value": {
                "rcpts": [product["smtp"]["rcpts"], naive["smtp"]["rcpts"]],
                "coverage": [coverage, naive_coverage],
            },
            "pass": fewer and coverage >= naive_coverage,
        },
    }


# --------------------------------------------------------------------------------------------
# Entry point


async def run(seed: int, domains: int, people: int, singles: int, known: int = 0) -> dict[str, Any]:
    """Build the world, run the product and the naive prober over it, score both."""
    world = generate(seed, domains, people)
    warm_up, main, single = split(world, singles, seed)

    def phases() -> list[Phase]:
        return [Phase("warm-up", warm_up), Phase("main", main), Phase("singles", single)]

    product_phases, naive_phases = phases(), phases()
    with LoopbackDns() as dns_zone:
        publish(world, dns_zone)
        product_answers = await run_product(world, dns_zone, product_phases, known)
        naive_answers = await run_naive(world, dns_zone, naive_phases)
    product = score(world, product_answers, product_phases)
    naive = score(world, naive_answers, naive_phases)
    return {
        "seed": seed,
        "known_contacts_per_domain": known,
        "world": world.summary(),
        "targets": targets(product, naive),
        "product": product,
        "naive": naive,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def report(figures: dict[str, Any]) -> Iterable[str]:
    """The printed summary (the JSON holds everything)."""
    world = figures["world"]
    yield (
        f"world seed={figures['seed']}: {world['domains']} domains, {world['lookups']} lookups "
        f"({world['non_employees']} not working there), findable {world['findable']}"
    )
    yield f"  behaviours {world['behaviours']}"
    yield f"  patterns   {world['patterns']}"
    for name in ("product", "naive"):
        run_ = figures[name]
        smtp = run_["smtp"]
        yield ""
        yield f"{name}: wall {run_['wall_seconds']} s " + ", ".join(
            f"{ph['phase']} {ph['seconds']} s" for ph in run_["phases"]
        )
        yield (
            f"  coverage {_pct(run_['coverage']['coverage'])} of {run_['coverage']['findable']} "
            f"findable (verifiable {_pct(run_['coverage_verifiable']['coverage'])}, "
            f"guess-only {_pct(run_['coverage_guess_only']['coverage'])}); "
            f"found at high/medium {_pct(run_['coverage']['coverage_high_or_medium'])}"
        )
        levels = ", ".join(
            f"{level} {_pct(v['precision'])} ({v['right']}/{v['answers']})"
            for level, v in run_["precision_by_confidence"].items()
        )
        yield f"  precision {_pct(run_['precision'])} ({run_['right']}/{run_['answers']}): {levels}"
        yield (
            f"  not working there: {run_['non_employees']['answered']} of "
            f"{run_['non_employees']['lookups']} got an address "
            f"{run_['non_employees']['by_confidence']}"
        )
        yield f"  wrong answers by reason {run_['wrong_by_reason']}"
        yield (
            f"  SMTP per lookup: {smtp['connections_per_lookup']} connections, "
            f"{smtp['rcpts_per_lookup']} RCPTs, warm {smtp['warm_rcpts_per_lookup']} RCPTs"
            + (f"; API reported {smtp['api_reported']}" if smtp["api_reported"] else "")
        )
        singles = run_["single_calls"]
        if singles["calls"]:
            yield (
                f"  single find-email calls (servers' count per call): "
                f"{singles['rcpts_per_call']} RCPTs/call, employees "
                f"{singles['rcpts_per_call_employees']}, not working there "
                f"{singles['rcpts_per_call_non_employees']}"
            )
        for kind, v in run_["by_behaviour"].items():
            yield (
                f"    {kind:19} coverage {v['found']:3}/{v['findable']:<3} "
                f"wrong {v['wrong']:3} (high {v['wrong_high']}) answers {v['answers']:3} "
                f"warm RCPTs {smtp['warm_rcpts_per_lookup_by_behaviour'].get(kind)}"
            )
    yield ""
    yield "targets:"
    for name, target in figures["targets"].items():
        mark = "PASS" if target["pass"] else "FAIL"
        yield f"  {mark}  {name}: {target['target']}; value {target['value']}"
    yield ""
    yield "wrong answers (product; up to two per reason, high confidence first):"
    shown: Counter[str] = Counter()
    wrongs = sorted(figures["product"]["wrong_answers"], key=lambda w: w["confidence"] != "high")
    for wrong in wrongs:
        shown[wrong["why"]] += 1
        if shown[wrong["why"]] > 2:
            continue
        yield (
            f"  {wrong['person']} @{wrong['domain']} [{wrong['behaviour']}, {wrong['pattern']}] "
            f"→ {wrong['answer']} ({wrong['confidence']}); truth {wrong['truth']}; {wrong['why']}"
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench accuracy", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--domains", type=int, default=None, help=f"default {DOMAINS}")
    parser.add_argument("--people", type=int, default=None, help=f"lookups; default {PEOPLE}")
    parser.add_argument("--singles", type=int, default=None, help="find-email calls; 5%%")
    parser.add_argument(
        "--known",
        type=int,
        default=0,
        help="unlisted colleagues per domain imported as known contacts first (0-2; default 0)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_DOMAINS} domains, {QUICK_PEOPLE} lookups"
    )
    args = parser.parse_args(argv)
    domains = args.domains or (QUICK_DOMAINS if args.quick else DOMAINS)
    people = args.people or (QUICK_PEOPLE if args.quick else PEOPLE)
    singles = args.singles if args.singles is not None else max(10, round(people * 0.05))
    figures = asyncio.run(run(args.seed, domains, people, singles, args.known))
    for line in report(figures):
        print(line)
    name = (
        "accuracy"
        + ("_quick" if args.quick else "")
        + (f"_known{args.known}" if args.known else "")
    )
    print(f"saved {save(name, figures)}")
