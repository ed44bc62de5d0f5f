"""HTML, vCard, robots.txt and sitemap pages of the field world's sites (:mod:`bench.field_world`).

Written from how company sites publish people, not from LeadSonar's extractor: team cards, staff
tables, definition lists, schema.org JSON-LD ``Person`` objects, vCard downloads (RFC 6350),
microformats h-card; e-mail addresses as ``mailto:`` links, ``name [at] firma (dot) de`` text or
Cloudflare's e-mail protection (``data-cfemail``: a key byte, then each byte XOR the key, hex);
the switchboard and fax in every footer and on the contact page or legal notice (Impressum,
mentions légales). Each function returns ``{path: html | {"body": …, "content_type": …}}``.
"""

from __future__ import annotations

import html
import json
import random
from typing import Any

from bench.field_world import Company, Decoy, Person

LABELS = {
    "us": {"direct": "Direct", "mobile": "Mobile", "team": "Our Team", "contact": "Contact"},
    "gb": {
        "direct": "Direct line",
        "mobile": "Mobile",
        "team": "Our people",
        "contact": "Contact us",
    },
    "de": {
        "direct": "Durchwahl",
        "mobile": "Mobil",
        "team": "Ansprechpartner",
        "contact": "Impressum",
    },
    "fr": {
        "direct": "Ligne directe",
        "mobile": "Portable",
        "team": "Notre équipe",
        "contact": "Mentions légales",
    },
}
LANG = {"us": "en", "gb": "en-GB", "de": "de", "fr": "fr"}
CONTACT_PATH = {
    "us": "/contact",
    "gb": "/contact-us",
    "de": "/impressum",
    "fr": "/mentions-legales",
}


def e(text: str) -> str:
    return html.escape(text, quote=True)


def cloudflare(address: str, key: int) -> str:
    """Cloudflare's ``data-cfemail`` encoding of ``address`` with key byte ``key``."""
    return f"{key:02x}" + "".join(f"{ord(c) ^ key:02x}" for c in address)


def email_html(address: str, display: str | None, rng: random.Random) -> str:
    if display == "at_dot":
        local, _, domain = address.partition("@")
        host, _, tld = domain.rpartition(".")
        form = rng.choice(("{l} [at] {h} [dot] {t}", "{l} (at) {h} (dot) {t}", "{l}[at]{h}.{t}"))
        return e(form.format(l=local, h=host, t=tld))
    if display == "cloudflare":
        code = cloudflare(address, rng.randint(16, 250))
        return (
            f'<a href="/cdn-cgi/l/email-protection#{code}"><span class="__cf_email__" '
            f'data-cfemail="{code}">[email&#160;protected]</span></a>'
        )
    return f'<a href="mailto:{e(address)}">{e(address)}</a>'


def shown_name(company: Company, person: Person, rng: random.Random) -> str:
    middle = f" {_middle(person)}" if _middle(person) else ""
    if company.locale == "fr" and rng.random() < 0.5:
        return f"{person.first}{middle} {person.last.upper()}"
    prefix = "Dr. " if company.locale == "de" and rng.random() < 0.12 else ""
    suffix = ", MBA" if company.locale == "us" and rng.random() < 0.08 else ""
    return f"{prefix}{person.first}{middle} {person.last}{suffix}"


def _middle(person: Person) -> str:
    return f"{person.middle}." if person.middle and person.name_kind == "namesake_middle" else ""


def full_name(person: Person) -> str:
    """The name as structured data carries it: with the middle initial that tells a namesake
    apart (``Daniel J. Moreau``), without honorifics."""
    return " ".join(part for part in (person.first, _middle(person), person.last) if part)


def tel_href(person: Person) -> str:
    return "tel:" + (person.phone_e164 or "").replace(";ext=", ";ext=")


def phone_html(company: Company, person: Person, rng: random.Random) -> str:
    label = LABELS[company.locale]["mobile" if person.phone_type == "mobile" else "direct"]
    written = e(person.phone_written or "")
    if rng.random() < 0.5:
        return f'{label}: <a href="{e(tel_href(person))}">{written}</a>'
    return f"{label}: {written}" if rng.random() < 0.7 else written


def footer(company: Company) -> str:
    info = f"{_role(company)}@{company.domain}"
    tel = {"us": "Tel", "gb": "T", "de": "Tel.", "fr": "Tél."}[company.locale]
    return (
        f"<footer><p>&copy; 2026 {e(company.name)} · {e(_street(company))}</p>"
        f"<p>{tel} {e(company.switchboard)} · Fax {e(company.fax)} · "
        f'<a href="mailto:{info}">{info}</a></p></footer>'
    )


def _role(company: Company) -> str:
    return {"us": "info", "gb": "enquiries", "de": "info", "fr": "contact"}[company.locale]


def _street(company: Company) -> str:
    return {
        "us": "500 Market Street, Suite 200, San Francisco, CA 94105",
        "gb": "12 Old Street, London EC1V 9HL",
        "de": "Friedrichstraße 120, 10117 Berlin",
        "fr": "24 rue de la Paix, 75002 Paris",
    }[company.locale]


def page(company: Company, title: str, body: str) -> str:
    labels = LABELS[company.locale]
    nav = (
        '<nav><a href="/">Home</a> '
        + (
            f'<a href="{company.team_path}">{e(labels["team"])}</a> '
            if company.layout != "none"
            else ""
        )
        + f'<a href="{CONTACT_PATH[company.locale]}">{e(labels["contact"])}</a> '
        '<a href="/careers">Careers</a></nav>'
    )
    return (
        f'<!doctype html><html lang="{LANG[company.locale]}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title>"
        f'<meta property="og:site_name" content="{e(company.short)}"></head>'
        f"<body><header>{nav}</header><main>{body}</main>{footer(company)}</body></html>"
    )


def team_body(company: Company, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The team page's body and any extra files (vCards) for the company's layout."""
    people = [p for p in company.people if p.listed]
    labels = LABELS[company.locale]
    extra: dict[str, Any] = {}
    display = company.email_display
    heading = f"<h1>{e(labels['team'])}</h1>"
    if company.layout == "cards":
        cards = []
        for p in people:
            parts = [
                f'<img src="/img/{_slug(p)}.jpg" alt="">',
                f"<h3>{e(shown_name(company, p, rng))}</h3>",
                f'<p class="position">{e(p.title)}</p>',
            ]
            if p.phone_written:
                parts.append(f'<p class="phone">{phone_html(company, p, rng)}</p>')
            if p.email_shown and p.mailbox:
                parts.append(f'<p class="email">{email_html(p.mailbox, display, rng)}</p>')
            cards.append('<div class="team-member">' + "".join(parts) + "</div>")
        return heading + '<section class="team-grid">' + "".join(cards) + "</section>", extra
    if company.layout == "table":
        head = {
            "de": ("Name", "Funktion", "Telefon", "E-Mail"),
            "fr": ("Nom", "Fonction", "Téléphone", "E-mail"),
        }.get(company.locale, ("Name", "Position", "Phone", "Email"))
        rows = "".join(
            f"<tr><td>{e(shown_name(company, p, rng))}</td><td>{e(p.title)}</td>"
            f"<td>{e(p.phone_written) if p.phone_written else '&ndash;'}</td>"
            f"<td>{_email_cell(p, display, rng)}</td></tr>"
            for p in people
        )
        header = "".join(f"<th>{h}</th>" for h in head)
        return (
            heading
            + f'<table class="staff"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>',
            extra,
        )
    if company.layout == "dl":
        items = []
        for p in people:
            items.append(f"<dt>{e(shown_name(company, p, rng))}</dt><dd>{e(p.title)}</dd>")
            if p.phone_written:
                items.append(f"<dd>{phone_html(company, p, rng)}</dd>")
            if p.email_shown and p.mailbox:
                items.append(f"<dd>E-Mail: {email_html(p.mailbox, display, rng)}</dd>")
        return heading + '<dl class="contacts">' + "".join(items) + "</dl>", extra
    if company.layout == "jsonld":
        employees = []
        for p in people:
            item: dict[str, Any] = {
                "@type": "Person",
                "name": full_name(p),
                "jobTitle": p.title,
            }
            if p.phone_written:
                item["telephone"] = p.phone_written
            if p.email_shown and p.mailbox:
                item["email"] = p.mailbox if rng.random() < 0.5 else f"mailto:{p.mailbox}"
            employees.append(item)
        data = {
            "@context": "https://schema.org",
            "@type": "Organization",
            "name": company.name,
            "url": f"https://{company.domain}/",
            "telephone": company.switchboard,
            "employee": employees,
        }
        visible = "".join(
            f"<li>{e(shown_name(company, p, rng))} – {e(p.title)}</li>" for p in people
        )
        script = (
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
        )
        return heading + f'<ul class="people">{visible}</ul>' + script, extra
    if company.layout == "vcard":
        items = []
        for p in people:
            slug = _slug(p)
            items.append(
                f"<li><strong>{e(shown_name(company, p, rng))}</strong>, {e(p.title)} — "
                f'<a href="/vcard/{slug}.vcf" download>vCard</a></li>'
            )
            extra[f"/vcard/{slug}.vcf"] = {
                "body": vcard(company, p),
                "content_type": "text/vcard; charset=utf-8",
            }
        return heading + '<ul class="people">' + "".join(items) + "</ul>", extra
    # h-card (microformats2)
    cards = []
    for p in people:
        parts = [
            f'<span class="p-name">{e(shown_name(company, p, rng))}</span>',
            f'<span class="p-job-title">{e(p.title)}</span>',
        ]
        if p.phone_written:
            parts.append(f'<a class="p-tel" href="{e(tel_href(p))}">{e(p.phone_written)}</a>')
        if p.email_shown and p.mailbox:
            parts.append(f'<a class="u-email" href="mailto:{e(p.mailbox)}">{e(p.mailbox)}</a>')
        cards.append('<div class="h-card">' + " ".join(parts) + "</div>")
    return heading + "".join(cards), extra


def _email_cell(person: Person, display: str | None, rng: random.Random) -> str:
    if person.email_shown and person.mailbox:
        return email_html(person.mailbox, display, rng)
    return ""


def vcard(company: Company, person: Person) -> str:
    """An RFC 6350 vCard 3.0 for ``person``."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"FN:{full_name(person)}",
        f"N:{person.last};{person.first};{_middle(person)};;",
        f"ORG:{company.name}",
        f"TITLE:{person.title}",
    ]
    if person.phone_written:
        kind = "CELL" if person.phone_type == "mobile" else "WORK,VOICE"
        lines.append(f"TEL;TYPE={kind}:{person.phone_written}")
    lines.append(f"TEL;TYPE=WORK,MAIN:{company.switchboard}")
    if person.email_shown and person.mailbox:
        lines.append(f"EMAIL;TYPE=INTERNET,WORK:{person.mailbox}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def _slug(person: Person) -> str:
    from bench.field_world import mail_spelling

    return f"{mail_spelling(person.first, False)}-{mail_spelling(person.last, False)}"


def contact_body(company: Company) -> str:
    info = f"{_role(company)}@{company.domain}"
    managing = next((p for p in company.people if p.state == "active"), None)
    boss = f"{managing.first} {managing.last}" if managing else "—"
    if company.locale == "de":
        return (
            f"<h1>Impressum</h1><p>{e(company.name)}<br>{e(_street(company))}</p>"
            f"<p>Telefon: {e(company.switchboard)}<br>Telefax: {e(company.fax)}<br>"
            f"Support-Hotline: {e(company.support)}<br>E-Mail: {info}</p>"
            f"<p>Geschäftsführer: {e(boss)}<br>Registergericht: Amtsgericht Charlottenburg, "
            f"HRB {100000 + company.index * 37}</p>"
            f"<p>USt-IdNr.: DE{123456780 + company.index}</p>"
        )
    if company.locale == "fr":
        return (
            f"<h1>Mentions légales</h1><p>{e(company.name)}, au capital de 50 000 €<br>"
            f"Siège social : {e(_street(company))}<br>RCS Paris {812345670 + company.index}</p>"
            f"<p>Tél. : {e(company.switchboard)}<br>Fax : {e(company.fax)}<br>"
            f"Assistance : {e(company.support)}</p><p>Directeur de la publication : {e(boss)}</p>"
            f"<p>Contact : {info}</p>"
        )
    return (
        f"<h1>Contact</h1><p>{e(company.name)}<br>{e(_street(company))}</p>"
        f"<p>Main office: {e(company.switchboard)}</p><p>Fax: {e(company.fax)}</p>"
        f"<p>Customer support: {e(company.support)}</p><p>Email: {info}</p>"
    )


def site_pages(company: Company, base: str) -> dict[str, Any]:
    """Every page of ``company``'s site, for the server at ``base``."""
    rng = random.Random(f"{company.domain}-pages")
    tagline = {
        "us": "Software for teams that ship",
        "gb": "Independent advisers since 1998",
        "de": "Ihr Partner für Logistik und Technik",
        "fr": "Votre partenaire depuis 1995",
    }[company.locale]
    pages: dict[str, Any] = {
        "/": page(
            company,
            f"{company.short} – {tagline}",
            f"<h1>{e(company.short)}</h1><p>{e(company.name)}: {e(tagline)}.</p>",
        ),
        CONTACT_PATH[company.locale]: page(
            company, f"{LABELS[company.locale]['contact']} – {company.short}", contact_body(company)
        ),
        "/careers": page(
            company, f"Careers – {company.short}", "<h1>Careers</h1><p>We are hiring.</p>"
        ),
        "/robots.txt": {"body": "User-agent: *\nDisallow: /admin/\n", "content_type": "text/plain"},
    }
    if company.layout != "none":
        body, extra = team_body(company, rng)
        pages[company.team_path] = page(
            company, f"{LABELS[company.locale]['team']} – {company.short}", body
        )
        pages.update(extra)
    if company.index % 2 == 0:
        urls = "".join(
            f"<url><loc>{base}{p}</loc></url>" for p in pages if not p.endswith((".txt", ".vcf"))
        )
        pages["/sitemap.xml"] = {
            "body": f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
            "content_type": "application/xml",
        }
    return pages


def decoy_pages(decoy: Decoy, base: str) -> dict[str, Any]:
    """A parked page, or the site of an unrelated business sharing the company's word."""
    if decoy.kind == "parked":
        body = (
            f"<!doctype html><html><head><title>{decoy.domain} - This domain is for sale"
            "</title></head>"
            f"<body><h1>{decoy.domain}</h1><p>This domain may be for sale! Buy now for $2,995 or "
            "make an offer.</p><p>Related searches: Business Software, Team Management, "
            "Logistics Services</p></body></html>"
        )
        return {"/": body}
    people = "".join(
        f"<li>{e(p.first)} {e(p.last)} – {e(p.mailbox or '')}</li>" for p in decoy.people
    )
    home = (
        f'<!doctype html><html lang="en"><head><title>{e(decoy.owner)}</title>'
        f'<meta property="og:site_name" content="{e(decoy.owner)}"></head><body>'
        f'<nav><a href="/about">About</a></nav><h1>{e(decoy.owner)}</h1>'
        f"<p>Welcome to {e(decoy.owner)}.</p><footer>Call us: +1 (555) 010-0199</footer>"
        "</body></html>"
    )
    about = (
        f"<!doctype html><html><head><title>About – {e(decoy.owner)}</title></head>"
        f"<body><ul>{people}</ul></body></html>"
    )
    return {"/": home, "/about": about}
