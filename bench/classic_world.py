"""The *classic* world style: the accuracy world (:mod:`bench.world`) and the phones world
(:mod:`bench.phones`) as one :class:`~bench.spec.Spec`, so the generalization benchmark can
score them with the same measures as the field style.

These worlds were written alongside the prober and the extractor: they measure the rules those
were built for (website-only rows, four page styles, ``.test`` domains, no company names).
"""

from __future__ import annotations

import random
from collections import Counter

from bench import phones as phone_world
from bench.spec import MailServer, Query, Records, Site, Spec, e164, phone_key
from bench.world import generate

REGION = {"en": "US", "de": "DE", "fr": "FR", "gb": "GB"}


def build(seed: int, companies: int = 36, queries: int = 220) -> Spec:
    """The classic worlds for ``seed``: ``max(8, companies)`` mail domains with ``queries``
    find-email rows (the accuracy world), and the phones world's 36 sites with their
    find-phone rows (a seeded sample of ``queries`` of them)."""
    mail_world = generate(seed, max(8, companies), max(queries, 4 * max(8, companies) + 10))
    records = Records()
    mail: list[MailServer] = []
    dead: list[str] = []
    rows: list[Query] = []
    for domain in mail_world.domains:
        records.mx[domain.name] = [(h.preference, h.name) for h in domain.mx]
        for host in domain.mx:
            records.add_a(host.name, host.ip)
            if not host.live:
                dead.append(host.ip)
        mail.append(MailServer(domain.live_host.ip, domain.smtp_behaviour()))
    by_domain = mail_world.by_domain
    for lookup in mail_world.lookups[:queries]:
        domain = by_domain[lookup.domain]
        rows.append(
            Query(
                index=len(rows),
                first=lookup.first,
                last=lookup.last,
                website=lookup.domain,
                company=None,
                domain=lookup.domain,
                ask_email=True,
                ask_phone=False,
                employee=lookup.employee,
                email=lookup.truth,
                email_findable=lookup.findable,
                phone=None,
                phone_type=None,
                switchboard=None,
                company_lines=frozenset(),
                resolvable=True,
                kinds={
                    "mail": domain.behaviour,
                    "mode": "website",
                    "name": next(iter(lookup.tags), "plain") if lookup.employee else "outsider",
                    "layout": "none",
                    "tld": "test",
                    "region": "-",  # no phone asked
                },
            )
        )
    sites: list[Site] = []
    rng = random.Random(seed)
    firms = phone_world.generate(rng)
    phone_rows = []
    for firm in firms:
        records.add_a(firm.domain, firm.ip)
        sites.append(Site(firm.domain, firm.ip, _pages(firm)))
        region = REGION[firm.style]
        lines = frozenset(
            k for k in (phone_key(n, region) for n in (firm.main, firm.fax, firm.support)) if k
        )
        people = [(p, "listed") for p in firm.people]
        if firm.hidden:
            people.append((firm.hidden, "robots_disallowed"))
        first, last = phone_world.OUTSIDERS[firm.index % len(phone_world.OUTSIDERS)]
        people.append((phone_world.Person(first, last), "outsider"))
        for person, kind in people:
            own = person.phone if kind == "listed" else None
            phone_rows.append(
                (
                    person,
                    firm,
                    own and e164(own, region),
                    (person.kind if own else None),
                    lines,
                    phone_key(firm.main, region),
                    kind,
                    region,
                )
            )
    rng.shuffle(phone_rows)
    for person, firm, own, kind, lines, main, label, region in phone_rows[:queries]:
        rows.append(
            Query(
                index=len(rows),
                first=person.first,
                last=person.last,
                website=firm.domain,
                company=None,
                domain=firm.domain,
                ask_email=False,
                ask_phone=True,
                employee=label != "outsider",
                email=None,
                email_findable=None,
                phone=own,
                phone_type=kind,
                switchboard=main,
                company_lines=lines,
                resolvable=True,
                kinds={
                    "mail": "none",
                    "mode": "website",
                    "name": label,
                    "layout": f"classic_{firm.style}",
                    "tld": "test",
                    "region": region,
                },
            )
        )
    summary = {
        "mail_domains": len(mail_world.domains),
        "phone_sites": len(firms),
        "queries": len(rows),
        "find_email_rows": sum(q.ask_email for q in rows),
        "find_phone_rows": sum(q.ask_phone for q in rows),
        "mail": dict(Counter(d.behaviour for d in mail_world.domains).most_common()),
        "email_findable": dict(
            Counter(str(q.email_findable) for q in rows if q.ask_email).most_common()
        ),
        "published_direct_dials": sum(q.phone is not None for q in rows),
    }
    return Spec("classic", seed, records, mail, sites, rows, dead, summary)


def _pages(firm: phone_world.Company):  # type: ignore[no-untyped-def]
    def render(base: str) -> dict[str, object]:
        port = int(base.rsplit(":", 1)[1])
        pages = phone_world._site(firm, port)
        return {
            path: page
            if isinstance(page, str)
            else {"body": page.body, "content_type": page.content_type}
            for path, page in pages.items()
        }

    return render
