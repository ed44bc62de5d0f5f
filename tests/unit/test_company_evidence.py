"""How a home page or legal notice is judged as a company's site (issue 8, kind 1)."""

from __future__ import annotations

import pytest

from leadsonar.domains.companies.evidence import (
    judge_home,
    judge_legal_notice,
    legal_notice_links,
    names_company,
    other_business,
    read_page,
    site_pages,
)
from leadsonar.domains.companies.sources import same_company_name


def _page(title: str, body: str = "", site_name: str | None = None) -> str:
    meta = f'<meta property="og:site_name" content="{site_name}">' if site_name else ""
    return f"<html><head><title>{title}</title>{meta}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("name", "html", "score"),
    [
        ("Northwind Security Inc.", _page("Northwind Security | Managed detection"), 60),
        ("Northwind Security Inc.", _page("Home", site_name="Northwind Security"), 60),
        ("Northwind Security Inc.", _page("Welcome to Northwind Security"), 60),
        # the title gives the short name; the footer names the company
        (
            "Northwind Security Inc.",
            _page(
                "Northwind – Detect and respond", "<footer>© 2026 Northwind Security Inc.</footer>"
            ),
            80,
        ),
        ("Northwind Security Inc.", _page("Northwind – Detect and respond"), 40),
        ("Sonnenfeld Logistik GmbH & Co. KG", _page("Sonnenfeld Logistik – Startseite"), 60),
        ("Groupe Morel Conseil S.A.S.", _page("Morel Conseil | Accueil"), 40),
        ("Notion", _page("Notion – The all-in-one workspace"), 60),
        ("Notion", _page("Blog", "We use Notion for everything."), 0),
        ("Acme", _page("Welcome", "<p>Acme GmbH, Musterstraße 1</p>"), 40),
        # rejected: parked, for sale, other businesses with the same word
        ("Northwind Security Inc.", _page("northwindsecurity.com - This domain is for sale"), None),
        ("Northwind Security Inc.", _page("Welcome", "<h1>Buy this domain</h1>"), None),
        ("Northwind Security Inc.", _page("Coming soon"), None),
        (
            "Northwind Security Inc.",
            _page("Northwind Security", "<p>Our new SOC is coming soon. Parked cars alarm.</p>"),
            60,
        ),
        ("Northwind Security Inc.", _page("Northwind Bakery | Fresh bread daily"), None),
        ("Notion", _page("Notion Capital | Venture capital"), None),
        # the title is the name, the footer another business's legal name
        (
            "Vireo Inc.",
            _page("Vireo | Fresh bread", "<footer>© 2026 Vireo Bakery LLC</footer>"),
            None,
        ),
        ("Vireo Inc.", _page("Vireo | Copilots", "<footer>© 2026 Vireo Inc.</footer>"), 100),
        ("Northwind Bakeries", _page("Northwind", "<p>© Northwind Security Inc.</p>"), None),
        ("Notion", _page("Notion – Workspace", "<p>Notion Labs Inc., San Francisco</p>"), 60),
        # the domain's spelling in the title, the name in the main heading (or its logo)
        ("Northwind Security Inc.", _page("NorthwindHQ | Detection"), 40),
        ("Vireo Inc.", _page("Copilots for field service", "<h1>Vireo</h1>"), 40),
        ("Vireo Inc.", _page("Home", '<h1><img src="/l.svg" alt="Vireo"></h1>'), 40),
        ("Vireo Inc.", _page("Home", "<h1>Vireo Tours</h1>"), 0),
        # product words around the name
        ("Linear", _page("Linear App | Plan and build"), 60),
        ("Northwind Security Inc.", _page("Northwind Security Platform | Home"), 60),
        ("Northwind Security Inc.", _page("Northwind Security Cloud Team"), 0),
        (
            "Vireo Inc.",
            _page("Vireo | Copilots", "<footer>Vireo Holding GmbH, Berlin</footer>"),
            60,
        ),
        # descriptor words swapped: one company's name spelt two ways
        ("Brightwave Holding AG", _page("Brightwave Group | Startseite"), 40),
        ("Brightwave Holding AG", _page("Brightwave Gruppe"), 40),
        # another line of business under the same word is another company
        ("Northwind Security Inc.", _page("Northwind Analytics | Dashboards"), None),
        ("Vireo Labs", _page("Vireo AI | Copilots"), 40),
        (
            "Vireo Inc.",
            _page("Vireo", "<p>This domain has been registered for a client.</p>"),
            None,
        ),
        ("Brightwave Holding AG", _page("Brightwave Dental – Zahnarztpraxis"), None),
    ],
)
def test_judge_home(name: str, html: str, score: float | None) -> None:
    verdict = judge_home(name, "example.com", read_page(html, "https://example.com/"))
    assert verdict.score == score, verdict.reason
    assert "example.com" in verdict.reason


def test_legal_notice_names_the_company_or_another() -> None:
    ours = read_page(
        "<h1>Impressum</h1><p>Sonnenfeld Logistik GmbH &amp; Co. KG<br>Hafenstraße 4</p>",
        "https://sonnenfeld.de/impressum",
    )
    verdict = judge_legal_notice("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeld.de", ours)
    assert verdict is not None and verdict.score == 45
    theirs = read_page(
        "<h1>Impressum</h1><p>Sonnenfeld Hotels GmbH, Seeweg 1</p>", "https://sonnenfeld.com/i"
    )
    rejected = judge_legal_notice("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeld.com", theirs)
    assert rejected is not None and rejected.score is None
    partner = read_page(
        "<p>Sonnenfeld Logistik GmbH &amp; Co. KG, vertreten durch die Sonnenfeld Logistik "
        "Verwaltungs GmbH</p>",
        "https://sonnenfeld.de/impressum",
    )
    kept = judge_legal_notice("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeld.de", partner)
    assert kept is not None and kept.score == 45
    silent = read_page("<h1>Imprint</h1><p>Responsible: Jane Roe</p>", "https://x.com/imprint")
    assert judge_legal_notice("Sonnenfeld Logistik GmbH & Co. KG", "x.com", silent) is None


def test_legal_notice_links_prefer_legal_pages() -> None:
    home = read_page(
        '<a href="/about">About us</a> <a href="/mentions-legales">Mentions légales</a>'
        '<a href="mailto:x@y.fr">Mail</a> <a href="/blog">Blog</a>',
        "https://morel.fr/",
    )
    assert legal_notice_links(home) == [
        "https://morel.fr/mentions-legales",
        "https://morel.fr/about",
    ]


def test_names_company_needs_the_words_in_a_row_or_a_legal_form() -> None:
    assert names_company("Northwind Security Inc.", "by Northwind Security, Inc. 2026")
    assert not names_company("Northwind Security Inc.", "Northwind and its Security team")
    assert names_company("Acme", "Acme Ltd. All rights reserved")
    assert not names_company("Acme", "We love Acme products")


def test_other_business() -> None:
    assert other_business("Northwind Security", "Northwind Bakery", None) == "Northwind Bakery"
    assert other_business("Northwind Security", "Northwind | Home", None) is None
    assert other_business("Northwind Security", "Northwind Security", None) is None


@pytest.mark.parametrize(
    ("wanted", "found", "same"),
    [
        ("Sonnenfeld Logistik GmbH & Co. KG", "Sonnenfeld Logistik", True),
        ("Sonnenfeld Logistik GmbH & Co. KG", "Sonnenfeld", True),
        ("Northwind Security", "Northwind Security Inc.", True),
        ("Notion", "Notion Labs", True),
        ("Notion", "Notion Labs, Inc.", True),
        ("Notion", "Notion Capital", False),
        ("Stripe", "Strip", False),
    ],
)
def test_same_company_name(wanted: str, found: str, same: bool) -> None:
    assert same_company_name(wanted, found) is same


def test_site_pages_counts_the_sites_own_pages() -> None:
    home = read_page(
        '<a href="/team">Team</a><a href="/team/">Team</a><a href="https://www.acme.com/about">'
        'About</a><a href="/">Home</a><a href="https://other.com/x">X</a>'
        '<a href="mailto:a@acme.com">Mail</a><a href="/contact#form">Contact</a>',
        "https://acme.com/",
    )

    def registrable(url: str) -> str | None:
        host = url.split("/")[2].removeprefix("www.")
        return host

    assert site_pages(home, "acme.com", registrable) == {"/team", "/about", "/contact"}
