"""Company name → domain guesses, title matching and import-file detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadsonar.domains.companies import company_key, domain_guesses, ranked_guesses, title_score
from leadsonar.domains.companies.names import core_forms, country_tlds
from leadsonar.domains.contacts import csv_kind
from leadsonar.exceptions import BadRequest


def test_guesses_for_a_one_word_name() -> None:
    guesses = domain_guesses("Notion")
    assert guesses[:3] == ["notion.com", "notion.io", "notion.co"]
    for affixed in ("getnotion.com", "trynotion.com", "usenotion.com", "notionhq.com"):
        assert affixed in guesses
    assert {"notion.so", "notion.ai", "notion-hq.com", "notionapp.com", "getnotion.io"} <= set(
        guesses
    )
    assert len(guesses) == len(set(guesses))


def _rank(name: str, domain: str) -> int:
    guesses = domain_guesses(name)
    assert domain in guesses, f"{domain} not guessed for {name!r}"
    return guesses.index(domain)


@pytest.mark.parametrize(
    ("name", "domain", "within"),
    [
        # issue 8's examples: the first word, with hq, and the compound legal form dropped
        ("Northwind Security Inc.", "northwind.com", 3),
        ("Northwind Security Inc.", "northwindhq.com", 40),
        ("Northwind Security Inc.", "northwind-security.com", 5),
        ("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeld.de", 5),
        ("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeld-logistik.de", 8),
        ("Sonnenfeld Logistik GmbH & Co. KG", "sonnenfeldlogistik.de", 3),
        # descriptors at either end (fr, de, en)
        ("Groupe Morel Conseil S.A.S.", "morel.fr", 8),
        ("Groupe Morel Conseil S.A.S.", "groupe-morel.fr", 15),
        ("Brightwave Holding AG", "brightwave.de", 5),
        ("Brightwave Holding AG", "brightwave.ch", 15),
        ("Vireo Labs, Inc.", "vireo.io", 8),
        ("Vireo Labs, Inc.", "getvireo.com", 40),
        ("Vireo Labs, Inc.", "vireo-global.com", 80),
        ("Vireo Labs, Inc.", "vireo-group.com", 80),
        ("Kessler Technologies Ltd", "kessler.co.uk", 5),
        ("Kessler Technologies Ltd", "kessler-tech.co.uk", 60),
        ("Acme Payments Inc.", "acmepay.com", 40),
        ("Atelier Dubois SARL", "atelierdubois.fr", 3),
        ("Atelier Dubois SARL", "atelier-dubois.fr", 8),
        ("Lumen Payments B.V.", "lumen.nl", 6),
        ("Polar Systems Oy", "polar.fi", 6),
        ("Fjord Analytics AB", "fjord.se", 6),
        ("Ferro Software S.r.l.", "ferro.it", 6),
        ("Cobalt Partners S.A.", "cobalt.fr", 8),
        ("Beispiel GmbH", "beispiel-gmbh.de", 12),
        # first two words of a longer name, legal form in a language's spelling
        ("Blue Harbor Freight Services LLC", "blueharbor.com", 6),
        ("Bäckerei Müller", "backereimuller.de", 3),
        ("Maison Lefèvre", "maisonlefevre.fr", 3),
        ("Müller & Söhne GmbH", "mueller.de", 12),
        ("Müller & Söhne GmbH", "muller.de", 12),
        ("Smith and Partners LLP", "smith.co.uk", 8),
    ],
)
def test_domain_guesses_cover_the_field_shapes(name: str, domain: str, within: int) -> None:
    assert _rank(name, domain) < within


@pytest.mark.parametrize(
    ("name", "tlds"),
    [
        ("Sonnenfeld Logistik GmbH & Co. KG", ["de", "at", "ch"]),
        ("Exemple S.A.S.", ["fr"]),
        ("Exemple S. A. S.", ["fr"]),
        ("Acme Ltd", ["co.uk"]),
        ("Groupe Morel", ["fr"]),
        ("Kühne Logistik", ["de"]),
        ("Acme, Inc.", []),
    ],
)
def test_country_tlds(name: str, tlds: list[str]) -> None:
    assert country_tlds(name) == tlds


def test_legal_forms_and_ampersands_never_become_words() -> None:
    guesses = domain_guesses("Sonnenfeld Logistik GmbH & Co. KG")
    labels = [g.split(".")[0] for g in guesses]
    assert not [label for label in labels if label.endswith(("kg", "and", "co", "gmbhco"))]
    assert not [label for label in labels if "logistikand" in label or "gmbhcokg" in label]
    assert domain_guesses("Procter & Gamble")[0] == "proctergamble.com"
    assert domain_guesses("Exemple SAS")[:2] == ["exemple.fr", "exemple.com"]
    assert domain_guesses("Acme Ltd")[:2] == ["acme.com", "acme.co.uk"]
    assert domain_guesses("Acme, Inc.")[:2] == ["acme.com", "acme.io"]
    assert domain_guesses("!!!") == []
    # a name that is only a legal-form word keeps it
    assert domain_guesses("AB")[0] == "ab.com"


def test_a_name_written_as_a_domain() -> None:
    assert domain_guesses("Acme.io")[:2] == ["acme.io", "acme.com"]
    assert company_key("Acme.io") == "acme"
    assert domain_guesses("Acme Labs")[0] == "acmelabs.com"
    assert company_key("Dr.Oetker") == "droetker"


def test_leading_article_and_descriptors() -> None:
    assert "browser.com" in domain_guesses("The Browser Company")[:3]
    assert core_forms("Groupe Morel Conseil") == ["groupe morel", "morel conseil", "morel"]
    assert core_forms("Northwind Security Inc.") == ["northwind"]
    assert core_forms("Notion") == []
    # a descriptor-only first word is not a guess of its own
    assert "groupe.com" not in domain_guesses("Groupe Morel Conseil")


def test_guesses_are_valid_and_ranked() -> None:
    ranked = ranked_guesses("Northwind Security Inc.")
    assert [g.prior for g in ranked] == sorted((g.prior for g in ranked), reverse=True)
    for guess in ranked:
        label = guess.domain.split(".")[0]
        assert 0 < len(label) <= 63 and not label.startswith("-") and not label.endswith("-")
    assert len(domain_guesses("Northwind Security Inc.", limit=20)) == 20


@pytest.mark.parametrize(
    ("name", "key"),
    [("Notion Labs, Inc.", "notion labs"), ("Beispiel GmbH", "beispiel"), ("Élan SA", "elan")],
)
def test_company_key(name: str, key: str) -> None:
    assert company_key(name) == key


@pytest.mark.parametrize(
    ("name", "title", "site_name", "matches"),
    [
        ("Notion", "Notion – The all-in-one workspace", None, True),
        ("Notion", "Home | Notion", None, True),
        ("Notion", None, "Notion", True),
        ("Beispiel GmbH", "Beispiel GmbH | Startseite", None, True),
        ("Linear", "Linear – Plan and build products", "Linear", True),
        ("Notion", "Notion Capital | Venture capital", None, False),
        ("Exemple", "Totally Different Ltd", None, False),
        ("Notion", None, None, False),
        # review 2: domain-name titles, parked pages and near names are not the company
        ("Acme Robotics", "acmerobotics.io", None, False),
        ("Acme Robotics", "AcmeRobotics.com - This domain is for sale", None, False),
        ("Brightwave", "brightwave.ai", None, False),
        ("Brightwave", "Brightwave.co | Domain parked", None, False),
        ("Brightwave", "Brightwave | Coming soon", None, False),
        ("Stripe", "Strip", None, False),
        ("Figma", "Sigma", None, False),
        ("Paypal", "PayPay", None, False),
        ("Acme Robotics", "AcmeRobotics | Robots for warehouses", None, True),
        ("Acme Robotics", "acmerobotics.io", "Acme Robotics", True),
        ("ParkingCo", "ParkingCo | Parking in Berlin", None, True),
    ],
)
def test_title_score(name: str, title: str | None, site_name: str | None, matches: bool) -> None:
    assert (title_score(name, title, site_name) >= 85) is matches


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("firstName,lastName,company,website,email,phone", "contacts"),
        ("first_name,last_name,email", "contacts"),
        ("company,website", "companies"),
        ("Name,Domain", "companies"),
        ("companyName,website", "companies"),
    ],
)
def test_csv_kind(tmp_path: Path, header: str, kind: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(header + "\n")
    assert csv_kind(path) == kind


def test_csv_kind_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("email,phone\n")
    with pytest.raises(BadRequest, match="firstName and lastName"):
        csv_kind(path)
