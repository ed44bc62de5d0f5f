"""Phone coverage and precision: find-phone over HTTP against a generated loopback web world.

``COMPANIES`` company sites, each on its own ``127.0.0.x`` address behind one real HTTP server
(:class:`~leadsonar.testing.webserver.LoopbackWeb`) with A records in a loopback DNS server.
Sites come in four styles, in four national number formats: English cards (US numbers in mixed
forms, ``tel:`` links), a German ``Über uns`` definition list (``030 …-NN``, ``0151/…``), a French
``équipe`` list (``01 42 …``, ``06 …``) and a British table (``020 7946 …``, ``07911 …``). Each
site also has a contact page with its main line, a fax line and a support line, a page that
robots.txt disallows publishing one more person's direct line, and on a fifth of the sites the
team page is reachable only through ``sitemap.xml``.

Every listed person is looked up, plus one person per company who does not work there. The
truth: a person with a published number → that number (``direct`` or ``mobile``); anyone else →
``phone: null`` with the main line as ``companyPhone`` (issue 8: never the switchboard as
``phone``). Reported: coverage (own numbers found / published), precision
(right own numbers / answers typed direct or mobile), office answers right, answers that gave
another person's number or a fax/support line (should be 0), pages fetched per company, and
lookups per second.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile, save
from leadsonar.config import Settings
from leadsonar.kit.phones import parse_phone
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.webserver import WEB_POOL, LoopbackWeb, Response

COMPANIES = 36
CONCURRENCY = 8
SEED = 11
STYLES = ("en", "de", "fr", "gb")
FIRSTS = {
    "en": ["Alex", "Sarah", "Mike", "Priya", "James", "Olivia", "Daniel", "Grace", "Ethan"],
    "de": ["Hanna", "Jörg", "Lukas", "Anna", "Felix", "Sophie", "Jürgen", "Lena", "Maximilian"],
    "fr": ["Élodie", "Marie", "Lucas", "Chloé", "Hugo", "Léa", "Théo", "Camille", "Antoine"],
    "gb": ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Freya", "Noah"],
}
LASTS = {
    "en": ["Johnson", "Chen", "Lee", "Patel", "Smith", "Garcia", "Kim", "Brown", "Wilson"],
    "de": ["Berg", "Großmann", "Müller", "Schäfer", "Weber", "Köhler", "Wagner", "Becker"],
    "fr": ["Dupont", "Marchand", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fournier"],
    "gb": ["Taylor", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes"],
}
OUTSIDERS = [("Quentin", "Xanthopoulos"), ("Yara", "Zwolinski"), ("Ivo", "Kowalczyk")]


@dataclass
class Person:
    first: str
    last: str
    phone: str | None = None  # as written on the page
    display: str | None = None  # the answer's form, +1-415-555-0192
    kind: str | None = None  # direct or mobile


@dataclass
class Company:
    index: int
    style: str
    domain: str
    ip: str
    main: str
    main_display: str
    fax: str
    support: str
    line_displays: set[str] = field(default_factory=set)  # fax and support
    people: list[Person] = field(default_factory=list)
    hidden: Person | None = None  # published only on a page robots.txt disallows
    sitemap_only: bool = False


def _numbers(style: str, i: int, j: int) -> tuple[str, str, str]:
    """(direct as written, mobile as written, region) for person ``j`` of company ``i``."""
    if style == "en":
        forms = ["+1 (415) 555-{n}", "415.555.{n}", "(212) 555-{n}", "+1 212 555 {n}"]
        n = f"01{(i * 7 + j) % 100:02d}"
        return forms[j % 4].format(n=n), forms[(j + 1) % 4].format(n=n), "US"
    if style == "de":
        return f"030 1234{i:02d}{j}-{10 + j}", f"0151/2345{i:02d}{j}{j}", "DE"
    if style == "fr":
        return f"01 42 68 {i:02d} {10 + j}", f"06 12 {i:02d} {j:02d} {j + 20}", "FR"
    return f"020 7946 {i:02d}{j:02d}", f"07911 1{i:02d}{j:03d}", "GB"


def generate(rng: random.Random) -> list[Company]:
    companies = []
    for i in range(COMPANIES):
        style = STYLES[i % len(STYLES)]
        region = _numbers(style, i, 0)[2]
        main = {
            "en": f"+1 415 555 0{i % 10}00",
            "de": f"030 1234{i:02d}0",
            "fr": f"01 42 68 {i:02d} 00",
            "gb": f"020 7946 {i:02d}00",
        }[style]
        fax = {"en": f"+1 415 555 0{i % 10}01", "de": f"030 1234{i:02d}9"}.get(
            style, f"01 42 68 {i:02d} 99" if style == "fr" else f"020 7946 {i:02d}99"
        )
        support = {"en": f"+1 212 555 0{i % 10}11", "de": f"030 5678{i:02d}0"}.get(
            style, f"01 43 68 {i:02d} 11" if style == "fr" else f"020 7947 {i:02d}11"
        )
        main_phone = parse_phone(main, region)
        assert main_phone is not None, main
        company = Company(
            index=i,
            style=style,
            domain=f"firma{i}-{style}.test",
            ip=WEB_POOL[i],
            main=main,
            main_display=main_phone.display,
            fax=fax,
            support=support,
            sitemap_only=i % 5 == 4,
        )
        for line in (fax, support):
            parsed_line = parse_phone(line, region)
            assert parsed_line is not None, line
            company.line_displays.add(parsed_line.display)
        names = set()
        for j in range(rng.randint(3, 7)):
            first, last = rng.choice(FIRSTS[style]), rng.choice(LASTS[style])
            while (first, last) in names:
                first, last = rng.choice(FIRSTS[style]), rng.choice(LASTS[style])
            names.add((first, last))
            person = Person(first, last)
            roll = rng.random()
            direct, mobile, _ = _numbers(style, i, j + 1)
            if roll < 0.6:
                person.phone, person.kind = direct, "direct"
            elif roll < 0.75:
                person.phone, person.kind = mobile, "mobile"
            if person.phone:
                parsed = parse_phone(person.phone, region)
                assert parsed is not None, person.phone
                person.display = parsed.display
                if person.kind == "mobile" and not parsed.mobile:
                    person.kind = "direct"  # US numbers are never typed mobile
            company.people.append(person)
        hidden = Person(rng.choice(FIRSTS[style]), "Hiddenfield", _numbers(style, i, 9)[0])
        parsed_hidden = parse_phone(hidden.phone or "", region)
        assert parsed_hidden is not None, hidden.phone
        hidden.display = parsed_hidden.display
        company.hidden = hidden
        companies.append(company)
    return companies


def _html(lang: str, title: str, body: str) -> str:
    return f'<html lang="{lang}"><head><title>{title}</title></head><body>{body}</body></html>'


def _team_page(company: Company) -> str:
    people = company.people
    if company.style == "en":
        cards = "".join(
            f'<div class="card"><h3>{p.first} {p.last}</h3><p>Product team</p>'
            + (
                f"<p>{'Direct' if p.kind == 'direct' else 'Mobile'}: "
                f'<a href="tel:{p.phone}">{p.phone}</a></p>'
                if p.phone
                else ""
            )
            + f'<p><a href="mailto:{p.first.lower()}@{company.domain}">Email</a></p></div>'
            for p in people
        )
        return _html("en", "Team", f"<h1>Our team</h1>{cards}")
    if company.style == "de":
        rows = "".join(
            f"<dt>{p.first} {p.last}</dt><dd>Vertrieb"
            + (f" · {'Tel.' if p.kind == 'direct' else 'Mobil'} {p.phone}" if p.phone else "")
            + "</dd>"
            for p in people
        )
        return _html("de", "Über uns", f"<h1>Unser Team</h1><dl>{rows}</dl>")
    if company.style == "fr":
        items = "".join(
            f"<li><strong>{p.first} {p.last.upper()}</strong> — Conseil"
            + (
                f" — {'Ligne directe' if p.kind == 'direct' else 'Portable'} : {p.phone}"
                if p.phone
                else ""
            )
            + "</li>"
            for p in people
        )
        return _html("fr", "Équipe", f"<h1>Notre équipe</h1><ul>{items}</ul>")
    rows = "".join(
        f"<tr><td>{p.first} {p.last}</td><td>Consultant</td><td>{p.phone or ''}</td></tr>"
        for p in people
    )
    return (
        '<html lang="en-GB"><head><title>People</title></head><body><h1>People</h1><table>'
        f"<tr><th>Name</th><th>Role</th><th>Phone</th></tr>{rows}</table></body></html>"
    )


def _site(company: Company, port: int) -> dict[str, str | Response]:
    team_path = {"en": "/team", "de": "/ueber-uns", "fr": "/equipe", "gb": "/people"}[company.style]
    team_text = {"en": "Our team", "de": "Über uns", "fr": "L'équipe", "gb": "People"}[
        company.style
    ]
    contact_path = {"en": "/contact", "de": "/kontakt", "fr": "/contact", "gb": "/contact-us"}[
        company.style
    ]
    links = f'<a href="{contact_path}">Contact</a> <a href="/careers">Careers</a>'
    if not company.sitemap_only:
        links += f' <a href="{team_path}">{team_text}</a>'
    links += ' <a href="/intern/board">Board</a>'
    hidden = company.hidden
    assert hidden is not None
    lang = {"en": "en", "de": "de", "fr": "fr", "gb": "en-GB"}[company.style]
    home = _html(lang, f"Firma {company.index}", f"<nav>{links}</nav>")
    contact = (
        f"<html><body><h1>Contact</h1><p>Main: {company.main}</p><p>Fax: {company.fax}</p>"
        f"<p>Support hotline: {company.support}</p></body></html>"
    )
    board = (
        f"<html><body><div><h3>{hidden.first} {hidden.last}</h3>"
        f"<p>Direct: {hidden.phone}</p></div></body></html>"
    )
    base = f"http://{company.domain}:{port}"
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/</loc></url><url><loc>{base}{team_path}</loc></url>"
        f"<url><loc>{base}/news/launch</loc></url></urlset>"
    )
    return {
        "/": home,
        team_path: _team_page(company),
        contact_path: contact,
        "/intern/board": board,
        "/robots.txt": Response("User-agent: *\nDisallow: /intern/\n", content_type="text/plain"),
        "/sitemap.xml": Response(sitemap, content_type="application/xml"),
    }


async def run() -> dict[str, Any]:
    rng = random.Random(SEED)
    companies = generate(rng)
    with LoopbackDns() as dns, tempfile.TemporaryDirectory() as tmp:
        async with LoopbackWeb() as web:
            for company in companies:
                await web.listen(company.ip)
                web.site(company.domain, _site(company, web.port))
                dns.add_a(company.domain, company.ip)
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                dns_servers=[dns.address],
                allowed_private_networks="127.0.0.0/8",
                providers="email=known,website;phone=known,website",
                crawl_scheme="http",
                crawl_port=web.port,
                crawl_delay=0.0,
                rate_limit="100000/second",
            )
            lookups: list[tuple[Company, Person, str]] = []
            for company in companies:
                lookups += [(company, p, "own" if p.display else "office") for p in company.people]
                assert company.hidden is not None
                lookups.append((company, company.hidden, "office"))
                first, last = OUTSIDERS[company.index % len(OUTSIDERS)]
                lookups.append((company, Person(first, last), "office"))
            rng.shuffle(lookups)
            outcome: Counter[str] = Counter()
            latencies: list[float] = []
            async with LiveServer(settings) as live:
                key = await live.create_account("bench", credits=len(lookups))
                semaphore = asyncio.Semaphore(CONCURRENCY)
                async with httpx.AsyncClient(
                    base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
                ) as client:

                    async def one(company: Company, person: Person, expect: str) -> None:
                        async with semaphore:
                            began = time.perf_counter()
                            response = await client.post(
                                "/api/v1/find-phone",
                                json={
                                    "firstName": person.first,
                                    "lastName": person.last,
                                    "website": company.domain,
                                },
                            )
                            latencies.append(time.perf_counter() - began)
                        body = response.json()
                        outcome.update(_judge(company, person, expect, body))

                    began = time.perf_counter()
                    await asyncio.gather(*(one(*lookup) for lookup in lookups))
                    wall = time.perf_counter() - began
            pages = Counter(r.host for r in web.requests if r.path != "/robots.txt")
            hidden_fetched = sum(1 for r in web.requests if r.path.startswith("/intern/"))
    own_total = outcome["own_total"]
    typed_own = outcome["own_right"] + outcome["own_wrong"]
    per_company = [pages.get(c.domain, 0) for c in companies]
    return {
        "companies": COMPANIES,
        "lookups": len(lookups),
        "people_with_published_number": own_total,
        "coverage": round(outcome["own_right"] / own_total, 3) if own_total else None,
        "precision": round(outcome["own_right"] / typed_own, 3) if typed_own else None,
        "office_expected": outcome["office_total"],
        "office_right": outcome["office_right"],
        "answers_with_another_persons_number": outcome["other_person"],
        "answers_with_fax_or_support_line": outcome["fax_or_support"],
        "robots_disallowed_pages_fetched": hidden_fetched,
        "pages_per_company": {
            "mean": round(sum(per_company) / len(per_company), 2),
            "max": max(per_company),
        },
        "wall_seconds": round(wall, 3),
        "lookups_per_second": round(len(lookups) / wall, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5) * 1000, 1),
            "p95": round(percentile(latencies, 0.95) * 1000, 1),
        },
    }


def _judge(company: Company, person: Person, expect: str, body: dict[str, Any]) -> list[str]:
    """The outcome counters one answer adds (numbers compared in the answer's form)."""
    phone, kind = body.get("phone"), body.get("type")
    everyone = [*company.people, *([company.hidden] if company.hidden else [])]
    others = {p.display for p in everyone if p.display and p is not person}
    counts = []
    if phone and phone in others:
        counts.append("other_person")
    if phone and phone in company.line_displays:
        counts.append("fax_or_support")
    if expect == "own":
        counts.append("own_total")
        if kind in ("direct", "mobile"):
            right = phone == person.display and kind == person.kind
            counts.append("own_right" if right else "own_wrong")
    else:
        counts.append("office_total")
        if kind in ("direct", "mobile"):
            counts.append("own_wrong")
        elif phone is None and body.get("companyPhone") == company.main_display:
            counts.append("office_right")
    return counts


def main(argv: list[str]) -> None:
    figures = asyncio.run(run())
    path = save("phones", figures)
    for key, value in figures.items():
        print(f"{key:40} {value}")
    print(f"saved {path}")
