"""find-phone end to end on page layouts the field publishes people in (issue 8 §2), over HTTP
against the real app, a loopback DNS server and a real HTTP server: a team page whose numbers
are only in vCard downloads, more of them than one crawl reads; French numbers written with
dots in a definition list; a staff table with surnames in capitals; a listed name whose middle
initial marks a namesake. Whoever the site publishes no number for gets ``phone: null`` and the
switchboard as ``companyPhone``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.webserver import LoopbackWeb, Response
from tests.integration.test_website import web_settings

SITE_IP = "127.0.0.24"
FRENCH_IP = "127.0.0.25"
SWITCHBOARD = "020 7946 0300"

# twelve people, each with a vCard download: more files than LEADSONAR_CRAWL_MAX_PAGES (8)
PEOPLE = [
    ("Eleanor", "Wagner", "020 7946 0300 ext. 159"),
    ("Harry", "Winterbottom", "020 7946 0300 x208"),
    ("Mathieu", "Lefèvre", "020 7946 0300, Ext. 324"),
    ("Poppy", "Whitfield", "+44 (0)7700 900 412"),
    ("Isla", "Llewellyn", None),
    ("Oscar", "Pemberton", "020 7946 0300 ext. 31"),
    ("Freya", "Hargreaves", "020 7946 0300 ext. 32"),
    ("Arthur", "Blackwood", "020 7946 0300 ext. 33"),
    ("Ruby", "Ashworth", "020 7946 0300 ext. 34"),
    ("George", "Fairfax", "020 7946 0300 ext. 35"),
    ("Tobias G.", "Schäfer", "020 7946 0300 ext. 36"),
    ("Alfie", "Kaur", "020 7946 0300 ext. 85"),
]


def _slug(first: str, last: str) -> str:
    return f"{first.split()[0]}-{last}".lower().replace("è", "e").replace("ä", "a")


def _vcard(first: str, last: str, phone: str | None) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{first} {last}", f"N:{last};{first};;;"]
    if phone:
        lines.append(f"TEL;TYPE={'CELL' if '7700' in phone else 'WORK,VOICE'}:{phone}")
    lines += [f"TEL;TYPE=WORK,MAIN:{SWITCHBOARD}", "ORG:Marlow Systems plc", "END:VCARD"]
    return "\r\n".join(lines) + "\r\n"


def _page(title: str, body: str, lang: str = "en-GB", switchboard: str = SWITCHBOARD) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><title>{title}</title></head><body>'
        '<header><nav><a href="/">Home</a> <a href="/team">Our people</a> '
        '<a href="/contact-us">Contact us</a></nav></header>'
        f"<main>{body}</main><footer><p>T {switchboard} · Fax 020 7946 0846</p></footer>"
        "</body></html>"
    )


def _site() -> dict[str, str | Response]:
    """Marlow Systems: a team list whose numbers are only in vCard downloads."""
    items = "".join(
        f"<li><strong>{first} {last}</strong>, Partner — "
        f'<a href="/vcard/{_slug(first, last)}.vcf" download>vCard</a></li>'
        for first, last, _ in PEOPLE
    )
    pages: dict[str, str | Response] = {
        "/": _page("Marlow Systems", "<h1>Marlow Systems</h1>"),
        "/team": _page("Our people", f'<h1>Our people</h1><ul class="people">{items}</ul>'),
        "/contact-us": _page("Contact us", f"<p>Main office: {SWITCHBOARD}</p>"),
    }
    for first, last, phone in PEOPLE:
        # one server sends a .vcf as text/plain: it is still read as a vCard
        kind = "text/plain" if last == "Kaur" else "text/vcard; charset=utf-8"
        pages[f"/vcard/{_slug(first, last)}.vcf"] = Response(
            _vcard(first, last, phone), content_type=kind
        )
    return pages


def _french_site() -> dict[str, str | Response]:
    """Boréal: a definition list and a staff table, numbers written with dots."""

    def page(title: str, body: str) -> str:
        return (
            f'<!doctype html><html lang="fr"><head><title>{title}</title></head><body>'
            '<header><nav><a href="/">Accueil</a> <a href="/equipe">Notre équipe</a> '
            '<a href="/equipe/direction">Direction</a></nav></header>'
            f"<main>{body}</main><footer><p>Tél. : 01 55 25 98 00 · Fax : 01 55 25 37 99</p>"
            "</footer></body></html>"
        )

    return {
        "/": page("Boréal", "<h1>Groupe Boréal</h1>"),
        "/equipe": page(
            "Notre équipe",
            '<dl class="contacts"><dt>Hélène Chevalier</dt><dd>Associée</dd>'
            "<dd>Ligne directe : 01.55.25.79.42</dd>"
            "<dt>Camille Girard</dt><dd>Customer Success</dd><dd>01.55.25.88.75</dd>"
            "<dt>Léa Moreau</dt><dd>Partner</dd></dl>",
        ),
        "/equipe/direction": page(
            "Direction",
            '<table class="staff"><thead><tr><th>Nom</th><th>Fonction</th><th>Téléphone</th>'
            "</tr></thead><tbody><tr><td>Margaux N&#x27;DIAYE</td><td>CFO</td>"
            "<td>+33 1 55 25 17 28</td></tr><tr><td>Julien FAURE</td><td>COO</td>"
            "<td>01.52.63.77.84</td></tr></tbody></table>",
        ),
    }


@pytest.fixture
async def client(dns_zone: LoopbackDns, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with LoopbackWeb() as web:
        await web.listen(SITE_IP)
        await web.listen(FRENCH_IP)
        web.site("marlowsystems.com", _site())
        web.site("borealhq.fr", _french_site())
        dns_zone.add_a("marlowsystems.com", SITE_IP)
        dns_zone.add_a("borealhq.fr", FRENCH_IP)
        settings = web_settings(
            dns_zone,
            web,
            tmp_path,
            providers="email=website;phone=website",
            rate_limit="1000/second",
        )
        async with LiveServer(settings) as server:
            key = await server.create_account("layouts", credits=100)
            async with httpx.AsyncClient(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as http:
                yield http


async def _phone(
    client: httpx.AsyncClient, first: str, last: str, website: str = "marlowsystems.com"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/find-phone", json={"firstName": first, "lastName": last, "website": website}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("first", "last", "phone", "kind"),
    [
        # vCard downloads, every one of them, whatever the crawl's page budget left unread
        ("Eleanor", "Wagner", "+44-20-7946-0300;ext=159", "direct"),
        ("Alfie", "Kaur", "+44-20-7946-0300;ext=85", "direct"),
        ("Poppy", "Whitfield", "+44-7700-900412", "mobile"),
        ("Isla", "Llewellyn", None, None),  # her vCard has only the company's MAIN line
        # the middle initial that marks a namesake decides both ways
        ("Tobias G.", "Schäfer", "+44-20-7946-0300;ext=36", "direct"),
        ("Tobias", "Schäfer", None, None),
        ("Sam", "Nobody", None, None),
    ],
)
async def test_vcard_downloads_give_the_persons_own_number_or_null(
    client: httpx.AsyncClient, first: str, last: str, phone: str | None, kind: str | None
) -> None:
    body = await _phone(client, first, last)
    assert (body["phone"], body["type"]) == (phone, kind), body
    assert body["companyPhone"] == "+44-20-7946-0300", body


@pytest.mark.parametrize(
    ("first", "last", "phone"),
    [
        ("Camille", "Girard", "+33-1-55-25-88-75"),
        ("Hélène", "Chevalier", "+33-1-55-25-79-42"),
        ("Margaux", "N'Diaye", "+33-1-55-25-17-28"),
        ("Julien", "Faure", "+33-1-52-63-77-84"),
        ("Léa", "Moreau", None),  # listed without a number
    ],
)
async def test_dotted_french_numbers_in_a_definition_list_and_a_table(
    client: httpx.AsyncClient, first: str, last: str, phone: str | None
) -> None:
    body = await _phone(client, first, last, "borealhq.fr")
    assert (body["phone"], body["type"]) == (phone, "direct" if phone else None), body
    assert body["companyPhone"] == "+33-1-55-25-98-00", body


async def test_every_vcard_is_read_by_the_lookup_for_its_person(
    client: httpx.AsyncClient,
) -> None:
    """All twelve downloads answer their person, in one app, one crawl: those the crawl's
    budget left unread are read by the first lookup that needs them."""
    for first, last, written in PEOPLE:
        body = await _phone(client, first, last)
        assert (body["phone"] is None) == (written is None), (first, last, body)
