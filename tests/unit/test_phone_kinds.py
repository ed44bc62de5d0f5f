"""Kinds of published direct dials the field world's tune seed showed missed or misread (issue
8 §2), each with the failing HTML or vCard: French numbers written with dots, surnames in
capitals with an apostrophe, vCard downloads (the company's ``MAIN`` line on every card, and
the download link as its person's), and a listed name whose middle initial marks a namesake."""

from __future__ import annotations

from typing import Any

import pytest

from leadsonar.domains.extract import extract_page, extract_vcard, find_names, find_phones
from leadsonar.kit.net.safe_http import Page
from leadsonar.providers.base import LookupContext, Person
from leadsonar.providers.builtin.website import SiteCrawl, _one_person, _read

# -- French numbers written with dots are numbers, not dates ------------------------------------


@pytest.mark.parametrize(
    ("text", "right"),
    [
        ("01.55.25.89.95", ["+33155258995"]),
        ("Ligne directe: 04.46.21.88.75", ["+33446218875"]),
        ("06.12.14.88.75", ["+33612148875"]),
        ("Tél. : 01.02.03.04.05", ["+33102030405"]),  # day-and-month-like groups too
        ("le 12.03.2015 à Paris", []),  # a date stays a date
        ("du 01.02.2015 au 03.04.2016", []),
    ],
)
def test_dotted_french_numbers_are_not_dates(text: str, right: list[str]) -> None:
    assert [p.e164 for p, _, _ in find_phones(text, "FR")] == right


def test_a_dotted_number_in_a_definition_list_is_the_terms_person() -> None:
    page = extract_page(
        '<html lang="fr"><dl class="contacts">'
        "<dt>Hélène Chevalier</dt><dd>Partner</dd><dd>Ligne directe: 04.46.21.79.42</dd>"
        "<dt>Camille Girard</dt><dd>Customer Success</dd><dd>Ligne directe: 04.46.21.88.75</dd>"
        "</dl><footer>Tél. : 04 46 21 92 00</footer></html>",
        "https://aubepinehq.fr/equipe",
    )
    owners = {p.value: (p.owner, p.label) for p in page.phones}
    assert owners["+33446218875"] == ("Camille Girard", "direct")
    assert owners["+33446217942"] == ("Hélène Chevalier", "direct")
    assert owners["+33446219200"] == (None, "main")


# -- numbers in ranges libphonenumber's metadata does not know yet ------------------------------


@pytest.mark.parametrize(
    ("text", "region", "right"),
    [
        ("Portable : 07 11 40 60 93", "FR", ["+33711406093"]),  # labelled: read, range unknown
        ("Tél. : +33 7 28 93 23 65", "FR", ["+33728932365"]),
        ("07 11 40 60 93", "FR", []),  # unlabelled: an unknown range is not read from prose
        ("Commande 07 11 40 60 93", "FR", []),
        ("Tel: 12345678", "DE", []),  # a national form without the trunk prefix
    ],
)
def test_a_labelled_number_of_an_unknown_range_is_read(
    text: str, region: str, right: list[str]
) -> None:
    found = find_phones(text, region)
    assert [p.e164 for p, _, _ in found] == right
    assert not any(p.mobile for p, _, _ in found)  # its range says nothing: never "mobile"


def test_tel_links_vcards_and_phone_columns_state_a_number_of_an_unknown_range() -> None:
    page = extract_page(
        '<html lang="fr"><div class="card"><h3>Guillaume FAURE</h3>'
        '<a href="tel:+33726835149">07 26 83 51 49</a></div>'
        "<table><tr><th>Nom</th><th>Téléphone</th></tr>"
        "<tr><td>Léa Moreau</td><td>07 11 40 60 93</td></tr></table></html>",
        "https://mistral.fr/equipe",
    )
    assert {p.value: p.owner for p in page.phones} == {
        "+33726835149": "Guillaume FAURE",
        "+33711406093": "Léa Moreau",
    }
    vcard = "BEGIN:VCARD\r\nFN:Guillaume Faure\r\nTEL;TYPE=WORK:07 26 83 51 49\r\nEND:VCARD"
    assert [p.value for p in extract_vcard(vcard, "FR").phones] == ["+33726835149"]


# -- surnames in capitals with an apostrophe or hyphen -----------------------------------------


@pytest.mark.parametrize(
    "name", ["Margaux N'DIAYE", "Margaux N’DIAYE", "Sean O'BRIEN", "Anne LEROY-BEAULIEU"]
)
def test_capital_surnames_with_an_apostrophe_or_hyphen_are_names(name: str) -> None:
    assert [n for n, _, _ in find_names(name)] == [name]


@pytest.mark.parametrize(
    "name", ["Benoît Le Goff", "Camille LE GOFF", "Gianni De Luca", "Anna Van Der Berg"]
)
def test_a_capitalised_particle_inside_a_name_is_part_of_it(name: str) -> None:
    assert [n for n, _, _ in find_names(name)] == [name]
    assert find_names("Bienvenue au Mans et Le Bureau") == []


def test_a_table_row_with_an_apostrophe_surname_in_capitals_owns_its_number() -> None:
    page = extract_page(
        '<html lang="fr"><table class="staff"><thead><tr><th>Nom</th><th>Fonction</th>'
        "<th>Téléphone</th><th>E-mail</th></tr></thead><tbody>"
        "<tr><td>Pauline N&#x27;DIAYE</td><td>Marketing Lead</td><td>&ndash;</td><td></td></tr>"
        "<tr><td>Margaux N&#x27;DIAYE</td><td>CFO</td><td>+33 1 55 25 17 28</td><td></td></tr>"
        "</tbody></table></html>",
        "https://borealhq.com/a-propos/equipe",
    )
    assert [(p.value, p.owner) for p in page.phones] == [("+33155251728", "Margaux N'DIAYE")]


def test_a_name_column_in_the_catalogue_order_owns_the_rows_number() -> None:
    page = extract_page(
        '<html lang="de"><table><tr><th>Name</th><th>Telefon</th></tr>'
        "<tr><td>SCHMIDT, Anna</td><td>+49 30 1234567-214</td></tr>"
        "<tr><td>Weber, Jonas</td><td>030 1234567-215</td></tr></table></html>",
        "https://example.de/team",
    )
    assert [(p.value, p.owner) for p in page.phones] == [
        ("+49301234567214", "Anna SCHMIDT"),
        ("+49301234567215", "Jonas Weber"),
    ]


# -- vCard downloads -----------------------------------------------------------------------------

VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alfie Kaur\r\nN:Kaur;Alfie;;;\r\n"
    "ORG:Marlow Systems plc\r\nTITLE:CFO\r\n"
    "TEL;TYPE=WORK,VOICE:020 7946 0300 ext. 85\r\n"
    "TEL;TYPE=WORK,MAIN:020 7946 0300\r\n"
    "END:VCARD\r\n"
)


def test_a_vcards_main_line_is_the_companys_and_the_extension_is_the_persons() -> None:
    found = extract_vcard(VCARD, "GB")
    assert [(p.value, p.label, p.owner) for p in found.phones] == [
        ("+442079460300;ext=85", "direct", "Alfie Kaur"),
        ("+442079460300", "main", None),
    ]


def test_a_vcard_served_as_text_plain_is_read_as_a_vcard() -> None:
    site = SiteCrawl("marlowsystems.com", lang="en-GB")
    page = Page("https://marlowsystems.com/vcard/alfie-kaur.vcf", 200, "text/plain", VCARD)
    found = _read(page, site)
    assert [(p.value, p.owner, p.source) for p in found.phones] == [
        ("+442079460300;ext=85", "Alfie Kaur", "vcard"),
        ("+442079460300", None, "vcard"),
    ]


def test_a_vcard_download_in_a_persons_card_is_their_link() -> None:
    page = extract_page(
        '<html lang="en-GB"><main><ul class="people">'
        '<li><strong>Alfie Kaur</strong>, CFO — <a href="/vcard/alfie-kaur.vcf" download>vCard'
        "</a></li>"
        '<li><strong>Tobias G. Schäfer</strong>, Account Executive — <a href="/vcard/t.vcf">'
        "vCard</a></li></ul></main>"
        '<footer><a href="/company.vcf">Our address as a vCard</a> T 020 7946 0300</footer>'
        "</html>",
        "https://marlowsystems.com/team",
    )
    assert page.person_links == [
        ("https://marlowsystems.com/vcard/alfie-kaur.vcf", "Alfie Kaur"),
        ("https://marlowsystems.com/vcard/t.vcf", "Tobias G. Schäfer"),
    ]


def test_profile_and_vcard_links_by_path_or_text_are_their_cards_person() -> None:
    page = extract_page(
        '<div class="team"><div class="member"><h3>Anna Roth</h3><p>Vertrieb</p>'
        '<a href="/people/anna-roth/vcard">Kontakt speichern</a></div>'
        '<div class="member"><h3>Jonas Weber</h3><p>Einkauf</p>'
        '<a href="/team/jonas">Profil ansehen</a></div>'
        '<div class="member"><h3>Li Wagner</h3><a href="/careers">Jobs</a></div></div>',
        "https://example.de/team",
    )
    assert page.person_links == [
        ("https://example.de/people/anna-roth/vcard", "Anna Roth"),
        ("https://example.de/team/jonas", "Jonas Weber"),
    ]


# -- a middle initial that marks a namesake ------------------------------------------------------


def _own(*owners: str) -> list[tuple[float, dict[str, Any]]]:
    return [(100.0, {"owner": o, "value": f"+4989829333730{n}"}) for n, o in enumerate(owners)]


def _pick(first: str, last: str, own: list[Any], listed: list[str]) -> list[str]:
    picked = _one_person(
        Person(first_name=first, last_name=last),
        own,
        LookupContext(),
        listed,
        marked_namesakes=True,
    )
    return [str(p["owner"]) for _, p in picked]


def test_a_plain_query_does_not_get_the_number_of_someone_listed_with_a_middle_initial() -> None:
    listed = ["Li Schäfer", "Tobias G. Schäfer", "Brandon Klein", "Sabine von Falkenberg"]
    own = _own("Tobias G. Schäfer")
    assert _pick("Tobias", "Schäfer", own, listed) == []
    assert _pick("Tobias G.", "Schäfer", own, listed) == ["Tobias G. Schäfer"]


def test_a_middle_initial_house_style_tells_nobody_apart() -> None:
    listed = ["Tobias G. Schäfer", "Brandon T. Klein", "Sabine von Falkenberg"]
    assert _pick("Tobias", "Schäfer", _own("Tobias G. Schäfer"), listed) == ["Tobias G. Schäfer"]


def test_a_particle_is_not_a_middle_initial() -> None:
    listed = ["Li Schäfer", "Sabine von Falkenberg"]
    own = _own("Sabine von Falkenberg")
    assert _pick("Sabine", "von Falkenberg", own, listed) == ["Sabine von Falkenberg"]
