"""The *field* world style: companies, people, mail servers and lead-list rows written from how
real company sites, mail servers and lead lists look, not from LeadSonar's extractor or rules.

Pure data from a seed (no servers, no product imports); :mod:`bench.field_pages` renders the
sites and :func:`build` returns a :class:`bench.spec.Spec`.

Companies (``.com``/``.io``/``.co``/``.de``/``.fr``)
    US, British, German and French companies with the names lead lists carry: a brand word, an
    optional descriptor and a legal form, compound ones included (``Northwind Security Inc.``,
    ``Sonnenfeld Logistik GmbH & Co. KG``, ``Groupe Lumière``, ``Rheinwerk Holding AG``,
    ``Bellevue Conseil S.A.S.``). Their domain follows one of the field's naming habits
    (:data:`DOMAIN_FORMS`: the brand alone, brand + descriptor, ``get``/``try``/``use``
    prefixes, ``hq``/``app`` suffixes, ``-group``/``-global``), usually on the country's TLD;
    a tenth use an unrelated short brand that no naming habit reaches (*not resolvable*).
    Same-word *decoys* sit on the names a guess would try first: parked pages (some with a
    catch-all parking mail server) and unrelated businesses with their own site and mail.

Mail servers (:data:`MAIL_SHARES`)
    strict, catch-all with identified addresses published on the site, catch-all with none,
    greylisting (:data:`GREYLIST_SECONDS`), tarpit (slow greeting), connection-limited (``421``
    beyond one session), implicit MX (no MX record: mail goes to the A record's host, RFC 5321
    §5.1), dead primary MX, null MX (RFC 7505: no mail at all).

People and mailboxes
    One pattern per domain. Namesakes: the second ``Daniel Moreau`` gets the middle-initial
    form (``daniel.j.moreau``) and appears as ``Daniel J. Moreau``; or a same-name
    colleague keeps the plain address and the newcomer gets ``…2`` (``sarah.klein2``). Lead
    lists sometimes carry a middle initial the mailbox ignores (``Sarah K. Lee``). Umlauts fold
    to ``ae/oe/ue`` on German domains, accents are dropped, particles and hyphens are joined.

Sites (:mod:`bench.field_pages`)
    A third answer the bare domain with a ``301`` to ``www.`` (:data:`REDIRECT_SHARE`). A
    home page naming the company (title, ``og:site_name``), a team page in one of
    :data:`LAYOUTS` (cards, table, definition list, JSON-LD ``Person``, vCard downloads,
    h-card) or none, a contact page or legal notice with the switchboard, fax and support line,
    the switchboard in every footer, personal numbers in national or international forms with
    extensions (``ext. 12``, ``x204``, German ``-214``), addresses as ``mailto:``, ``[at]``/
    ``(dot)`` text or Cloudflare-style protected links.

Lead-list rows
    55% website, 25% website + company name, 20% company name only (by quota), a tenth of them
    people who do not work there (some sharing a first name with someone who does). Website
    cells come as ``acme.com``, ``www.acme.com`` or ``https://www.acme.com/``.

Knowledge base
    A fifth of the companies, and every unrelated business sharing a brand word, are known to
    the loopback Wikidata stand-in (label and official website, P856).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.field_names import (
    BRANDS,
    DESCRIPTORS,
    FIRSTS,
    LASTS,
    LEGAL,
    MIDDLE_INITIALS,
)
from bench.field_phones import Numbers, number_kind
from bench.spec import MailServer, Query, Records, Site, Spec, e164, phone_key
from bench.world import fold, quota

MAIL_SHARES: dict[str, float] = {
    "strict": 0.36,
    "catch_all_samples": 0.12,
    "catch_all_bare": 0.10,
    "greylist": 0.08,
    "tarpit": 0.07,
    "connection_limit": 0.07,
    "implicit_mx": 0.06,
    "dead_primary_mx": 0.08,
    "null_mx": 0.06,
}
TRUTHFUL = frozenset(
    {"strict", "greylist", "tarpit", "connection_limit", "implicit_mx", "dead_primary_mx"}
)
"""Mail kinds whose RCPT replies tell whether a mailbox exists."""

MODE_SHARES = {"website": 0.55, "website+company": 0.25, "company": 0.20}
LAYOUTS = ("cards", "table", "dl", "jsonld", "vcard", "hcard")
LAYOUT_SHARES = {name: 0.15 for name in LAYOUTS} | {"none": 0.10}
EMAIL_DISPLAYS = ("mailto", "at_dot", "cloudflare")
LOCALE_SHARES = {"us": 0.32, "gb": 0.20, "de": 0.26, "fr": 0.22}
TLD_SHARES = {
    "us": {"com": 0.6, "io": 0.25, "co": 0.15},
    "gb": {"com": 0.4, "co": 0.3, "io": 0.3},
    "de": {"de": 0.75, "com": 0.25},
    "fr": {"fr": 0.75, "com": 0.25},
}
PATTERN_SHARES = {
    "first.last": 0.42,
    "flast": 0.15,
    "first": 0.12,
    "firstlast": 0.07,
    "f.last": 0.07,
    "first_last": 0.04,
    "firstl": 0.04,
    "last": 0.03,
    "lastf": 0.03,
    "first-last": 0.03,
}
RECIPES = {
    "first.last": "{first}.{last}",
    "flast": "{f}{last}",
    "first": "{first}",
    "firstlast": "{first}{last}",
    "f.last": "{f}.{last}",
    "first_last": "{first}_{last}",
    "firstl": "{first}{l}",
    "last": "{last}",
    "lastf": "{last}{f}",
    "first-last": "{first}-{last}",
}
MIDDLE_RECIPES = {
    "first.last": "{first}.{m}.{last}",
    "flast": "{f}{m}{last}",
    "firstlast": "{first}{m}{last}",
    "f.last": "{f}{m}.{last}",
    "first_last": "{first}_{m}_{last}",
    "first-last": "{first}-{m}-{last}",
}
"""How mail admins tell a second ``Daniel Moreau`` apart: the middle initial in the pattern."""

DOMAIN_FORMS = {
    "brand": 0.42,
    "brand_descriptor": 0.12,
    "brand-descriptor": 0.05,
    "get_brand": 0.05,
    "try_brand": 0.03,
    "use_brand": 0.02,
    "brand_hq": 0.05,
    "brand_app": 0.03,
    "brand-group": 0.04,
    "brand-global": 0.03,
    "unrelated": 0.10,
    "brand_country": 0.06,
}
"""How a company's domain comes from its name (``unrelated``: no naming habit reaches it;
``brand_country``: the brand on the country's TLD where the main locale TLD is ``.com``)."""

DECOY_TRADES = ("Games", "Yoga Studio", "Realty", "Bakery", "Records", "Dental")
GREYLIST_SECONDS = 20.0
TARPIT_SECONDS = (3.0, 6.0)
CONNECTION_LIMIT = 1
NON_EMPLOYEE_SHARE = 0.10
LISTED_SHARE = 0.6
PHONE_SHARE = 0.6
DISABLED_SHARE = 0.02
REDIRECT_SHARE = 0.3  # sites whose bare domain answers 301 to www.
NOTABLE_SHARE = 0.2  # companies a public knowledge base knows (most B2B firms are not there)
NAMESAKE_SHARE = 0.06  # far above real teams, so that every seed has some

# -- data -------------------------------------------------------------------------------------


@dataclass
class Person:
    """Someone at a company (or a lead who is not there)."""

    first: str  # as the site and the lead list spell it, without a middle initial
    last: str
    middle: str = ""  # middle initial shown/sent, "" for none
    mailbox: str | None = None
    state: str = "active"  # active, disabled, outsider
    listed: bool = False
    email_shown: bool = False
    phone_written: str | None = None
    phone_e164: str | None = None
    phone_key: str | None = None
    phone_type: str | None = None
    name_kind: str = "plain"
    title: str = ""


@dataclass
class Company:
    """One company: its names, domain, mail, site and people."""

    index: int
    locale: str
    brand: str
    descriptor: str
    legal: str
    name: str  # the legal name
    short: str  # the name without its legal form
    domain: str
    domain_form: str
    resolvable: bool
    tld: str
    mail: str
    pattern: str
    layout: str
    email_display: str | None
    phone_style: str  # direct (own numbers) or extension (switchboard + ext)
    switchboard: str
    fax: str
    support: str
    web_ip: str
    mx_ips: list[str] = field(default_factory=list)
    dead_ips: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    team_path: str = "/team"
    tarpit: float = 0.0

    @property
    def region(self) -> str:
        return {"us": "US", "gb": "GB", "de": "DE", "fr": "FR"}[self.locale]

    @property
    def mailboxes(self) -> set[str]:
        return {p.mailbox for p in self.people if p.mailbox}


@dataclass
class Decoy:
    """A domain a guess may land on that is not the company's: ``parked`` or ``other``."""

    domain: str
    kind: str
    web_ip: str
    owner: str  # the business the page names
    catch_all_mx: bool
    mx_ip: str | None = None
    people: list[Person] = field(default_factory=list)
    for_company: int = -1


@dataclass
class FieldWorld:
    seed: int
    companies: list[Company]
    decoys: list[Decoy]
    leads: list[tuple[Company, Person, str, str | None, str | None, str]]
    """(company, person, mode, website cell, company cell, name kind)."""


def address(third: int, n: int) -> str:
    """The ``n``-th loopback address of a block starting at ``127.0.<third>.1``."""
    return f"127.0.{third + n // 250}.{1 + n % 250}"


WEB_BLOCK, MX_BLOCK, DEAD_BLOCK, PARKING_MX = 30, 40, 50, "127.0.60.1"


def mail_spelling(text: str, german: bool) -> str:
    return fold(text, german=german)


def local_part(pattern: str, first: str, last: str, middle: str = "") -> str:
    """The local part of ``pattern`` for mailbox spellings (``middle``: the initial form)."""
    recipe = MIDDLE_RECIPES[pattern] if middle else RECIPES[pattern]
    return recipe.format(first=first, last=last, f=first[:1], l=last[:1], m=middle.lower())


def usual_forms(first: str, last: str, middle: str = "") -> set[str]:
    """Every usual local part for a name (the findability rule for truthful servers)."""
    forms = {
        recipe.format(first=first, last=last, f=first[:1], l=last[:1])
        for recipe in RECIPES.values()
    }
    if middle:
        forms |= {
            recipe.format(first=first, last=last, f=first[:1], l=last[:1], m=middle.lower())
            for recipe in MIDDLE_RECIPES.values()
        }
    return forms


# -- generation -------------------------------------------------------------------------------


def _legal_name(rng: random.Random, locale: str, brand: str) -> tuple[str, str, str, str]:
    """(legal name, short name, descriptor, legal form)."""
    descriptor = rng.choice(DESCRIPTORS[locale]) if rng.random() < 0.7 else ""
    legal = rng.choice(LEGAL[locale])
    roll = rng.random()
    if locale == "fr" and roll < 0.25:
        short = f"Groupe {brand}"
        descriptor = ""
    elif locale == "de" and roll < 0.2:
        short, descriptor, legal = f"{brand} Holding", "Holding", "AG"
    elif locale in ("us", "gb") and roll < 0.15:
        short, descriptor = f"{brand} Group", "Group"
    else:
        short = f"{brand} {descriptor}".strip()
    name = f"{short} {legal}".strip() if legal else short
    if locale == "gb" and legal in ("Ltd", "Limited", "plc") and rng.random() < 0.3:
        name = name.replace(" Ltd", " Ltd.")
    return name, short, descriptor, legal


def _domain(
    rng: random.Random, form: str, brand: str, descriptor: str, tld: str, german: bool
) -> str:
    b = mail_spelling(brand, german)
    d = mail_spelling(descriptor, german) if descriptor else ""
    if form in ("brand_descriptor", "brand-descriptor") and not d:
        form = "brand_hq"
    label = {
        "brand": b,
        "brand_country": b,
        "brand_descriptor": f"{b}{d}",
        "brand-descriptor": f"{b}-{d}",
        "get_brand": f"get{b}",
        "try_brand": f"try{b}",
        "use_brand": f"use{b}",
        "brand_hq": f"{b}hq",
        "brand_app": f"{b}app",
        "brand-group": f"{b}-group",
        "brand-global": f"{b}-global",
        "unrelated": "".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(2))
        + rng.choice(("ly", "io", "ra", "x")),
    }[form]
    return f"{label}.{tld}"


def _name(rng: random.Random, locale: str) -> tuple[str, str]:
    if rng.random() < 0.2:
        locale = rng.choice(list(FIRSTS))
    return rng.choice(FIRSTS[locale]), rng.choice(LASTS[locale])


def _kind(first: str, last: str) -> str:
    if "'" in last:
        return "apostrophe"
    if " " in last:
        return "particle"
    if "-" in first or "-" in last:
        return "hyphen"
    if not (first + last).isascii():
        return "accent"
    return "plain"


def generate(seed: int, companies: int = 36, queries: int = 220) -> FieldWorld:
    """The field world for ``seed``: ``companies`` companies (plus decoys) and about
    ``queries`` lead-list rows. Same arguments, same world.

    Raises:
        ValueError: fewer than 8 companies or fewer than 20 queries.
    """
    if companies < 8 or queries < 20:
        raise ValueError("need at least 8 companies and 20 queries")
    rng = random.Random(f"field-{seed}")
    mails = quota(MAIL_SHARES, companies, rng)
    layouts = quota(LAYOUT_SHARES, companies, rng)
    forms = quota(DOMAIN_FORMS, companies, rng)
    locales = quota(LOCALE_SHARES, companies, rng)
    brands_left = {loc: list(BRANDS[loc]) for loc in BRANDS}
    for pool in brands_left.values():
        rng.shuffle(pool)
    taken: set[str] = set()
    result: list[Company] = []
    web_n = mx_n = dead_n = 0
    for i in range(companies):
        locale = locales[i]
        german = locale == "de"
        brand = (
            brands_left[locale].pop() if brands_left[locale] else f"{rng.choice(BRANDS[locale])}{i}"
        )
        name, short, descriptor, legal = _legal_name(rng, locale, brand)
        tlds = TLD_SHARES[locale]
        tld = rng.choices(list(tlds), weights=list(tlds.values()))[0]
        form = forms[i]
        if form == "brand_country":
            tld = {"us": "com", "gb": "co", "de": "de", "fr": "fr"}[locale]
        domain = _domain(rng, form, brand, descriptor, tld, german)
        while domain in taken:
            domain = _domain(rng, "unrelated", brand, descriptor, tld, german)
            form = "unrelated"
        taken.add(domain)
        numbers = Numbers(rng, locale, i)
        switchboard = numbers.switchboard()
        company = Company(
            index=i,
            locale=locale,
            brand=brand,
            descriptor=descriptor,
            legal=legal,
            name=name,
            short=short,
            domain=domain,
            domain_form=form,
            resolvable=form != "unrelated",
            tld=tld,
            mail=mails[i],
            pattern=rng.choices(list(PATTERN_SHARES), weights=list(PATTERN_SHARES.values()))[0],
            layout=layouts[i],
            email_display=rng.choice((None, *EMAIL_DISPLAYS)) if layouts[i] != "none" else None,
            phone_style="extension" if locale in ("us", "gb") and rng.random() < 0.35 else "direct",
            switchboard=switchboard,
            fax=numbers.line("fax"),
            support=numbers.line("support"),
            web_ip=address(WEB_BLOCK, web_n),
            team_path=rng.choice(
                {
                    "us": ("/team", "/about/team", "/company/leadership", "/people"),
                    "gb": ("/our-people", "/about-us/team", "/team", "/who-we-are"),
                    "de": (
                        "/team",
                        "/ueber-uns/team",
                        "/unternehmen/ansprechpartner",
                        "/kontakt/team",
                    ),
                    "fr": ("/equipe", "/notre-equipe", "/a-propos/equipe", "/qui-sommes-nous"),
                }[locale]
            ),
        )
        web_n += 1
        if company.mail == "catch_all_samples":
            company.email_display = company.email_display or "mailto"
            if company.layout == "none":
                company.layout = "cards"
        if company.mail == "catch_all_bare":
            company.email_display = None
        if company.mail == "catch_all_samples" and company.pattern in ("last", "lastf", "firstl"):
            company.pattern = "first"  # small firms on a catch-all often use first names
        if company.mail == "dead_primary_mx":
            company.dead_ips.append(address(DEAD_BLOCK, dead_n))
            dead_n += 1
        if company.mail == "implicit_mx":
            company.mx_ips.append(company.web_ip)
        elif company.mail != "null_mx":
            company.mx_ips.append(address(MX_BLOCK, mx_n))
            mx_n += 1
        if company.mail == "tarpit":
            company.tarpit = round(rng.uniform(*TARPIT_SECONDS), 1)
        _staff(rng, company, numbers)
        result.append(company)
    decoys = _decoys(rng, result, taken, web_n)
    leads = _leads(rng, result, queries)
    return FieldWorld(seed, result, decoys, leads)


def _staff(rng: random.Random, company: Company, numbers: Numbers) -> None:
    german = company.locale == "de"
    size = rng.randint(5, 12)
    names: list[tuple[str, str]] = []
    people: list[Person] = []
    mailboxes: set[str] = set()
    for _n in range(size):
        first, last = _name(rng, company.locale)
        person = Person(first, last, name_kind=_kind(first, last))
        mf, ml = mail_spelling(first, german), mail_spelling(last, german)
        twin = (first, last) in names
        if not twin and names and rng.random() < NAMESAKE_SHARE:
            first, last = rng.choice(names)  # a namesake (same name, same company)
            person = Person(first, last, name_kind=_kind(first, last))
            mf, ml = mail_spelling(first, german), mail_spelling(last, german)
            twin = True
        local = local_part(company.pattern, mf, ml)
        if twin or f"{local}@{company.domain}" in mailboxes:
            if company.pattern in MIDDLE_RECIPES and rng.random() < 0.5:
                person.middle = rng.choice(MIDDLE_INITIALS)
                local = local_part(company.pattern, mf, ml, person.middle)
                person.name_kind = "namesake_middle"
            else:
                digit = 2
                while f"{local}{digit}@{company.domain}" in mailboxes:
                    digit += 1
                local = f"{local}{digit}"
                person.name_kind = "numbered"
            if f"{local}@{company.domain}" in mailboxes:
                continue
        elif rng.random() < 0.1:
            person.middle = rng.choice(MIDDLE_INITIALS)
            person.name_kind = "middle_initial"  # the lead list carries it, the mailbox not
        names.append((first, last))
        person.mailbox = f"{local}@{company.domain}"
        mailboxes.add(person.mailbox)
        if rng.random() < DISABLED_SHARE:
            person.state = "disabled"
        person.title = rng.choice(
            (
                "Head of Sales",
                "CFO",
                "Account Executive",
                "Engineering Manager",
                "Office Manager",
                "Managing Director",
                "Marketing Lead",
                "Customer Success",
                "Partner",
                "COO",
            )
        )
        people.append(person)
    for person in people:  # the plain namesake of a middle-initial or numbered colleague
        if person.name_kind in (
            "plain",
            "accent",
            "hyphen",
            "particle",
            "apostrophe",
            "middle_initial",
        ) and any(
            p is not person and (p.first, p.last) == (person.first, person.last) for p in people
        ):
            person.middle = ""  # the lead list shows nothing that tells the two apart
            person.name_kind = "namesake_plain"
    if company.layout != "none":
        shown: set[tuple[str, str, str]] = set()
        for person in people:
            # two people the page would show under the same name: only one is listed
            name = (
                person.first,
                person.middle if person.name_kind == "namesake_middle" else "",
                person.last,
            )
            person.listed = rng.random() < LISTED_SHARE and name not in shown
            if person.listed:
                shown.add(name)
            if person.listed and company.email_display and rng.random() < 0.7:
                person.email_shown = True
            if person.listed and rng.random() < PHONE_SHARE:
                written, _ = numbers.direct(company.switchboard, company.phone_style)
                person.phone_written = written
                person.phone_e164 = e164(written, company.region)
                person.phone_key = phone_key(written, company.region)
                person.phone_type = number_kind(written, company.region)
        if company.mail == "catch_all_samples":  # at least two identified samples
            samples = [p for p in people if p.email_shown and p.state == "active"]
            plain = [
                p
                for p in people
                if p.state == "active"
                and not p.email_shown
                and not p.name_kind.startswith(("namesake", "numbered"))
            ]
            for person in plain[: max(0, 2 - len(samples))]:
                person.listed = person.email_shown = True
    company.people = people


def _decoys(
    rng: random.Random, companies: list[Company], taken: set[str], web_n: int
) -> list[Decoy]:
    """Same-word domains a guess may land on: parked pages and other businesses."""
    decoys: list[Decoy] = []
    for company in companies:
        german = company.locale == "de"
        brand = mail_spelling(company.brand, german)
        own_is_plain = company.domain.split(".")[0] == brand
        candidates = [f"{brand}.{t}" for t in ("com", "io", "co", "de", "fr")]
        if company.descriptor:
            candidates.append(f"{brand}{mail_spelling(company.descriptor, german)}.com")
        free = [c for c in candidates if c not in taken]
        rng.shuffle(free)
        wanted = 1 if own_is_plain else 2
        if rng.random() < 0.35:
            wanted -= 1
        for domain in free[: max(0, wanted)]:
            taken.add(domain)
            kind = "parked" if rng.random() < 0.5 else "other"
            decoy = Decoy(
                domain=domain,
                kind=kind,
                web_ip=address(WEB_BLOCK, web_n),
                owner=f"{company.brand} {rng.choice(DECOY_TRADES)}",
                catch_all_mx=rng.random() < 0.5,
                for_company=company.index,
            )
            web_n += 1
            if kind == "other":
                decoy.mx_ip = address(MX_BLOCK + 5, len(decoys))
                for _ in range(3):
                    first, last = _name(rng, company.locale)
                    person = Person(first, last, listed=True)
                    person.mailbox = f"{mail_spelling(first, german)}@{domain}"
                    decoy.people.append(person)
            decoys.append(decoy)
    return decoys


def _leads(
    rng: random.Random, companies: list[Company], queries: int
) -> list[tuple[Company, Person, str, str | None, str | None, str]]:
    outsiders = round(queries * NON_EMPLOYEE_SHARE)
    pool = [(c, p) for c in companies for p in c.people if p.state != "outsider"]
    rng.shuffle(pool)
    chosen = pool[: queries - outsiders]
    # a same-name pair of which one is numbered is sent once: the requests would be identical
    seen: set[tuple[int, str, str, str]] = set()
    employees = []
    for company, person in chosen:
        key = (company.index, person.first, person.last, person.middle)
        if key in seen:
            continue
        seen.add(key)
        employees.append((company, person))
    rows: list[tuple[Company, Person]] = list(employees)
    for _ in range(queries - len(employees)):
        company = rng.choice(companies)
        there = {(p.first, p.last) for p in company.people}
        for _ in range(200):
            if rng.random() < 0.4 and company.people:
                first = rng.choice(company.people).first  # shares a first name with staff
                last = rng.choice(LASTS[rng.choice(list(LASTS))])
            else:
                first, last = _name(rng, company.locale)
            if (first, last) not in there:
                break
        same_first = any(p.first == first for p in company.people)
        rows.append(
            (
                company,
                Person(
                    first,
                    last,
                    state="outsider",
                    name_kind="outsider_same_first" if same_first else "outsider",
                ),
            )
        )
    rng.shuffle(rows)
    modes = quota(MODE_SHARES, len(rows), rng)
    leads = []
    for (company, person), mode in zip(rows, modes, strict=True):
        website = None
        if mode != "company":
            form = rng.random()
            website = (
                company.domain
                if form < 0.6
                else f"www.{company.domain}"
                if form < 0.8
                else f"https://www.{company.domain}/"
            )
        company_cell = None
        if mode != "website":
            company_cell = company.name if rng.random() < 0.6 else company.short
        leads.append((company, person, mode, website, company_cell, person.name_kind))
    return leads


# -- the spec ---------------------------------------------------------------------------------


def build(seed: int, companies: int = 36, queries: int = 220) -> Spec:
    """The field world for ``seed`` as a :class:`~bench.spec.Spec` (see the module)."""
    from bench.field_pages import decoy_pages, site_pages

    world = generate(seed, companies, queries)
    records = Records()
    mail = []
    sites: list[Site] = []
    dead: list[str] = []
    parking_needed = False
    redirects = random.Random(f"redirects-{seed}")  # its own stream: the rest stays the same
    for company in world.companies:
        d = company.domain
        records.add_a(d, company.web_ip)
        records.add_a(f"www.{d}", company.web_ip)
        to_www = redirects.random() < REDIRECT_SHARE
        sites.append(Site(d, company.web_ip, _bind(site_pages, company), to_www))
        if company.mail == "null_mx":
            records.null_mx.add(d)
            continue
        if company.mail != "implicit_mx":
            hosts = []
            for n, ip in enumerate(company.dead_ips):
                hosts.append((10, f"mx{n + 1}.{d}"))
                records.add_a(f"mx{n + 1}.{d}", ip)
                dead.append(ip)
            live = (
                f"mx{len(hosts) + 1}.{d}" if company.mail != "strict" or len(d) % 2 else f"mail.{d}"
            )
            hosts.append((10 + 10 * len(hosts), live))
            records.add_a(live, company.mx_ips[0])
            records.mx[d] = hosts
        mail.append(_mail_server(company))
    for decoy in world.decoys:
        records.add_a(decoy.domain, decoy.web_ip)
        records.add_a(f"www.{decoy.domain}", decoy.web_ip)
        sites.append(Site(decoy.domain, decoy.web_ip, _bind(decoy_pages, decoy)))
        if decoy.kind == "parked" and decoy.catch_all_mx:
            records.mx[decoy.domain] = [(10, "mx.parkmail-service.com")]
            parking_needed = True
        elif decoy.kind == "other" and decoy.mx_ip:
            records.mx[decoy.domain] = [(10, f"mx.{decoy.domain}")]
            records.add_a(f"mx.{decoy.domain}", decoy.mx_ip)
            behaviour: dict[str, Any] = {"name": f"mx.{decoy.domain}"}
            if decoy.catch_all_mx:
                behaviour["catch_all"] = True
            else:
                behaviour["mailboxes"] = {p.mailbox for p in decoy.people if p.mailbox} | {
                    f"info@{decoy.domain}"
                }
            mail.append(MailServer(decoy.mx_ip, behaviour))
    if parking_needed:
        records.add_a("mx.parkmail-service.com", PARKING_MX)
        mail.append(MailServer(PARKING_MX, {"name": "mx.parkmail-service.com", "catch_all": True}))
    queries_out = [_query(i, lead) for i, lead in enumerate(world.leads)]
    knowledge = _knowledge(world)
    summary = {
        "companies": len(world.companies),
        "decoys": dict(Counter(d.kind for d in world.decoys)),
        "queries": len(queries_out),
        "mail": dict(Counter(c.mail for c in world.companies).most_common()),
        "layouts": dict(Counter(c.layout for c in world.companies).most_common()),
        "locales": dict(Counter(c.locale for c in world.companies).most_common()),
        "tlds": dict(Counter(c.tld for c in world.companies).most_common()),
        "domain_forms": dict(Counter(c.domain_form for c in world.companies).most_common()),
        "modes": dict(Counter(q.kinds["mode"] for q in queries_out).most_common()),
        "name_kinds": dict(Counter(q.kinds["name"] for q in queries_out).most_common()),
        "email_findable": dict(Counter(str(q.email_findable) for q in queries_out).most_common()),
        "published_direct_dials": sum(q.phone is not None for q in queries_out),
    }
    summary["knowledge_base_items"] = len(knowledge)
    return Spec("field", seed, records, mail, sites, queries_out, dead, summary, knowledge)


def _knowledge(world: FieldWorld) -> list[tuple[str, str]]:
    """What Wikidata would know: a few notable companies (:data:`NOTABLE_SHARE`, by their short
    name) and the unrelated businesses that share their word. Its own random stream, so the
    rest of the world does not depend on it."""
    rng = random.Random(f"knowledge-{world.seed}")
    items = [
        (c.short, f"https://www.{c.domain}/")
        for c in world.companies
        if rng.random() < NOTABLE_SHARE
    ]
    items += [(d.owner, f"https://{d.domain}/") for d in world.decoys if d.kind == "other"]
    rng.shuffle(items)
    return items


def _bind(render: Any, thing: Any) -> Any:
    return lambda base: render(thing, base)


def _mail_server(company: Company) -> MailServer:
    live_name = "mx"
    behaviour: dict[str, Any] = {"name": f"{live_name}.{company.domain}"}
    boxes = {p.mailbox for p in company.people if p.mailbox and p.state != "disabled"}
    boxes |= {f"{role}@{company.domain}" for role in _roles(company)}
    disabled = {p.mailbox for p in company.people if p.mailbox and p.state == "disabled"}
    behaviour |= {"mailboxes": boxes, "disabled": disabled}
    if company.mail.startswith("catch_all"):
        behaviour["catch_all"] = True
    elif company.mail == "greylist":
        behaviour |= {"greylist": True, "greylist_delay": GREYLIST_SECONDS}
    elif company.mail == "tarpit":
        behaviour["banner_delay"] = company.tarpit
    elif company.mail == "connection_limit":
        behaviour["max_sessions"] = CONNECTION_LIMIT
    return MailServer(company.mx_ips[0], behaviour)


def _roles(company: Company) -> tuple[str, ...]:
    return {
        "us": ("info", "sales", "hello"),
        "gb": ("info", "enquiries", "hello"),
        "de": ("info", "kontakt", "vertrieb"),
        "fr": ("contact", "info", "commercial"),
    }[company.locale]


def _query(index: int, lead: tuple[Company, Person, str, str | None, str | None, str]) -> Query:
    company, person, mode, website, company_cell, name_kind = lead
    german = company.locale == "de"
    employee = person.state != "outsider"
    truth = (
        person.mailbox
        if employee and person.state == "active" and company.mail != "null_mx"
        else None
    )
    findable = None
    reachable = mode != "company" or company.resolvable
    if truth and reachable:
        local = truth.partition("@")[0]
        mf, ml = mail_spelling(person.first, german), mail_spelling(person.last, german)
        if person.email_shown:
            findable = "published"
        elif company.mail in TRUTHFUL and local in usual_forms(mf, ml, person.middle):
            findable = "verify"
        elif company.mail == "catch_all_samples" and local == local_part(
            company.pattern, mf, ml, person.middle if person.name_kind == "namesake_middle" else ""
        ):
            findable = "sample"
    first = f"{person.first} {person.middle}." if person.middle else person.first
    phone = person.phone_e164 if employee else None
    lines = frozenset(
        k
        for k in (
            phone_key(n, company.region)
            for n in (company.switchboard, company.fax, company.support)
        )
        if k
    )
    layout = (
        company.layout if person.listed else ("unlisted" if company.layout != "none" else "none")
    )
    # a colleague this row's request names to the letter (a numbered namesake and the plain
    # one): the page's number for that name may be either's
    twins = frozenset(
        k
        for p in company.people
        if employee
        and p is not person
        and (p.first, p.last) == (person.first, person.last)
        and not person.middle
        and not (p.middle and p.name_kind == "namesake_middle")
        and p.listed
        and (k := p.phone_key)
    )
    return Query(
        index=index,
        first=first,
        last=person.last,
        website=website,
        company=company_cell,
        domain=company.domain,
        ask_email=True,
        ask_phone=True,
        employee=employee,
        email=truth,
        email_findable=findable,
        phone=phone,
        phone_type=person.phone_type if phone else None,
        switchboard=phone_key(company.switchboard, company.region),
        company_lines=lines,
        resolvable=company.resolvable,
        kinds={
            "mail": company.mail,
            "mode": mode,
            "name": name_kind,
            "layout": layout,
            "tld": company.tld,
            "region": company.region,
        },
        phone_twin=twins,
    )
