"""A loopback world of companies known only by name, for the company resolver's tests.

Every site is a real HTTP server (:class:`~leadsonar.testing.webserver.LoopbackWeb`) answering
by ``Host`` on :data:`SITE_IP`, with A records (and MX records for the real companies) in the
loopback DNS. Each company's real site is not its name's slug, and decoys stand on the domains
a naive guesser tries first:

- parked and for-sale pages (one reached through a redirect to a parking host);
- same-word businesses (``Northwind Bakery`` on ``northwind.com``; a hotel's ``Sonnenfeld``
  whose Impressum names ``Sonnenfeld Hotels GmbH``);
- names that exist in DNS without a site, and a site that redirects to the company's real one.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.webserver import LoopbackWeb, Response, redirect

SITE_IP = "127.0.0.30"
MAIL_IP = "127.0.0.31"


def page(title: str, body: str = "", site_name: str | None = None, lang: str = "en") -> str:
    meta = f'<meta property="og:site_name" content="{site_name}">' if site_name else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><title>{title}</title>{meta}</head>'
        f"<body>{body}</body></html>"
    )


PARKED = page(
    "This domain is for sale",
    "<h1>Buy this domain</h1><p>Make an offer today. Parked free, courtesy of ParkHost.</p>",
)


@dataclass(frozen=True)
class Company:
    """A company of the world: the name users type and the domain that is really its own."""

    name: str
    domain: str


NORTHWIND = Company("Northwind Security Inc.", "northwindhq.com")
SONNENFELD = Company("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeld.de")
MOREL = Company("Groupe Morel Conseil S.A.S.", "morel-conseil.fr")
BRIGHTWAVE = Company("Brightwave Holding AG", "brightwave-group.com")
VIREO = Company("Vireo Labs, Inc.", "vireo.ai")
KESSLER = Company("Kessler Technologies Ltd", "kessler-tech.co.uk")  # found by no guess
COMPANIES = (NORTHWIND, SONNENFELD, MOREL, BRIGHTWAVE, VIREO)


def sites(port: int) -> dict[str, dict[str, str | Response]]:
    """Every host's pages (``port``: the world's HTTP port, for absolute redirects)."""
    return {
        # Northwind Security: the short name in the title, the full one in the footer
        "northwindhq.com": {
            "/": page(
                "Northwind – Managed detection and response",
                '<nav><a href="/team">Team</a></nav><footer>© 2026 Northwind Security Inc.'
                "</footer>",
            ),
            "/team": page("Team", "<h3>Dana Whitfield</h3><p>Direct: +1 212 555 0142</p>"),
        },
        "northwind.com": {"/": page("Northwind Bakery | Fresh bread daily", "<p>Sourdough</p>")},
        "northwindsecurity.com": {"/": PARKED},
        "northwind.io": {"/": redirect(f"http://parkhost.com:{port}/lander?d=northwind.io")},
        "parkhost.com": {"/lander": PARKED},
        # Sonnenfeld: a short title, the Impressum names the company; a hotel on .com
        "sonnenfeld.de": {
            "/": page(
                "Sonnenfeld – Kontraktlogistik aus Bremen",
                '<a href="/impressum">Impressum</a> <a href="/datenschutz">Datenschutz</a>',
                lang="de",
            ),
            "/impressum": page(
                "Impressum",
                "<p>Sonnenfeld Logistik GmbH &amp; Co. KG<br>Hafenstraße 4, 28197 Bremen</p>"
                "<p>Registergericht: Amtsgericht Bremen HRA 12345</p>",
                lang="de",
            ),
        },
        "sonnenfeld.com": {
            "/": page("Sonnenfeld", '<a href="/impressum">Impressum</a>', lang="de"),
            "/impressum": page("Impressum", "<p>Sonnenfeld Hotels GmbH, Seeweg 1</p>", lang="de"),
        },
        # Groupe Morel Conseil: neither "groupe" nor the legal form in the domain
        "morel-conseil.fr": {
            "/": page(
                "Morel Conseil | Conseil en stratégie",
                '<a href="/mentions-legales">Mentions légales</a>',
                lang="fr",
            ),
            "/mentions-legales": page(
                "Mentions légales",
                "<p>Éditeur : Groupe Morel Conseil SAS, capital de 10 000 €, RCS Lyon</p>",
                lang="fr",
            ),
        },
        "morel.fr": {"/": page("Morel Immobilier – Agence à Lyon", lang="fr")},
        "groupemorel.com": {"/": PARKED},
        # Brightwave Holding AG: brightwave.de redirects to the group's .com site, served from
        # a subdomain; the company's domain is the registrable one
        "brightwave.de": {"/": redirect(f"http://en.brightwave-group.com:{port}/", 301)},
        "brightwave-group.com": {"/": redirect(f"http://en.brightwave-group.com:{port}/")},
        "en.brightwave-group.com": {
            "/": page("Brightwave Group | Energy storage", site_name="Brightwave Group"),
        },
        "brightwave.com": {"/": page("Brightwave Dental – Family dentistry")},
        # Vireo Labs: an .ai site named by its short name; a birdwatching club on .com
        "vireo.ai": {"/": page("Vireo", "<p>Copilots for field service.</p>")},
        "vireo.com": {"/": page("Vireo Birdwatching Tours")},
        "vireolabs.com": {"/": PARKED},
        # Kessler Technologies: only a provider's company search knows this domain
        "kessler-tech.co.uk": {"/": page("Kessler Technologies – Precision sensors")},
        "kessler.com": {"/": page("Kessler Plumbing & Heating")},
    }


async def build_company_world(web: LoopbackWeb, dns: LoopbackDns) -> None:
    """Serve every site on :data:`SITE_IP` and publish the DNS records: an A record per host,
    MX records for the real companies, and names that exist without a site."""
    await web.listen(SITE_IP)
    for host, pages in sites(web.port).items():
        web.site(host, pages)
        dns.add_a(host, SITE_IP)
    for company in (*COMPANIES, KESSLER):
        dns.add_mx(company.domain, [(10, f"mx.{company.domain}")])
        dns.add_a(f"mx.{company.domain}", MAIL_IP)
    # in DNS, no website: must not win, must not break anything
    dns.add_mx("sonnenfeldlogistik.de", [(10, "mx.sonnenfeldlogistik.de")])
    dns.add_a("northwind.co", "127.0.0.41")  # nothing listens there
