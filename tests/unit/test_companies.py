"""Company name → domain guesses, title matching and import-file detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadsonar.domains.companies import company_key, domain_guesses, title_score
from leadsonar.domains.contacts import csv_kind
from leadsonar.exceptions import BadRequest


def test_guesses_for_a_one_word_name() -> None:
    guesses = domain_guesses("Notion")
    assert guesses[:8] == [
        "notion.com",
        "notion.io",
        "notion.co",
        "notion.so",
        "notion.ai",
        "notion.app",
        "notion.net",
        "notion.org",
    ]
    for affixed in ("getnotion.com", "trynotion.com", "usenotion.com", "notionhq.com"):
        assert affixed in guesses
    assert {"notion-hq.com", "notionapp.com", "getnotion.io"} <= set(guesses)
    assert len(guesses) == len(set(guesses))


def test_legal_form_points_at_the_country_tld() -> None:
    guesses = domain_guesses("Bäckerei Müller GmbH")
    assert guesses[:2] == ["backereimuller.com", "backereimuller.de"]
    assert "backerei-muller.de" in guesses
    assert domain_guesses("Exemple SAS")[:2] == ["exemple.com", "exemple.fr"]
    assert domain_guesses("Acme, Inc.")[:2] == ["acme.com", "acme.io"]


def test_the_and_ampersand() -> None:
    assert domain_guesses("The Browser Company")[0] == "browser.com"
    assert domain_guesses("Procter & Gamble")[0] == "procterandgamble.com"
    assert domain_guesses("!!!") == []


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
