"""What a crawl tells about a site's people (issue 8 §4): who is listed, whether the site
lists its team, and whose a published address is when no name stands beside it."""

from __future__ import annotations

from leadsonar.domains.extract import extract_page
from leadsonar.providers.builtin.website import SiteCrawl

TEAM = """<html lang="en"><h1>Team</h1>
<div class="card"><h3>Anna Roth</h3><p>anna@acme.com</p></div>
<div class="card"><h3>Karl Beck</h3></div>
<div class="card"><h3>Li Wagner</h3></div>
<div class="card"><h3>Li Kowalczyk</h3></div>"""
CONTACT = """<html lang="en"><h1>Contact</h1><p>Press enquiries: Jane Fox.</p>
<p>info@acme.com · li@acme.com · roth@acme.com · kowalczyk@acme.com</p>"""


def crawl(*pages: tuple[str, str, int]) -> SiteCrawl:
    site = SiteCrawl("acme.com")
    for path, html, score in pages:
        url = f"https://acme.com{path}"
        site.pages.append(url)
        site.add(url, extract_page(html, url, domain="acme.com"), score)
    return site


def test_a_team_page_lists_its_people_and_who_is_not_listed_is_known() -> None:
    site = crawl(("/", "<p>Welcome</p>", 0), ("/team", TEAM, 6), ("/contact", CONTACT, 5))
    assert site.team_page == "https://acme.com/team" and site.lists_team
    assert site.people[:4] == ["Anna Roth", "Karl Beck", "Li Wagner", "Li Kowalczyk"]
    assert "Jane Fox" in site.people  # named on the contact page: listed too
    assert site.listed("Anna", "Roth") is True
    assert site.listed("ANNA", "roth") is True  # case and accents fold
    assert site.listed("Li", "Schmidt") is False  # a team is listed, and she is not in it
    assert site.listed("Anne", "Roth") is False


def test_a_site_naming_one_person_lists_no_team_so_nobody_is_known_absent() -> None:
    site = crawl(("/", "<p>Welcome</p>", 0), ("/contact", CONTACT, 5))
    assert site.people == ["Jane Fox"] and site.team_page is None and not site.lists_team
    assert site.listed("Sam", "Nobody") is None
    assert site.listed("Jane", "Fox") is True


def test_two_names_suffice_on_a_page_linked_as_the_team() -> None:
    two = '<div class="c"><h3>Anna Roth</h3></div><div class="c"><h3>Karl Beck</h3></div>'
    assert crawl(("/about", two, 4)).team_page is None
    assert crawl(("/team", two, 6)).team_page == "https://acme.com/team"


def test_owner_of_a_local_part_is_the_one_listed_person_it_spells() -> None:
    site = crawl(("/team", TEAM, 6))
    assert site.owner_of("roth") == "Anna Roth"
    assert site.owner_of("kowalczyk") == "Li Kowalczyk"
    assert site.owner_of("karl.beck") == "Karl Beck"
    assert site.owner_of("li") is None  # two listed people are called Li
    assert site.owner_of("jdoe") is None


def test_people_survive_the_stored_json() -> None:
    from dataclasses import asdict

    site = crawl(("/team", TEAM, 6))
    again = SiteCrawl.from_json(asdict(site))
    assert again is not None and again.people == site.people and again.team_page == site.team_page


def test_a_number_printed_as_the_company_line_on_any_page_is_nobodys() -> None:
    """Jane's card on /team prints 0100; the contact page calls it the switchboard: it is the
    company's line, never Jane's direct dial. Ben's own line stays his."""
    team = """<html lang="en"><div class="c"><h3>Jane Fox</h3><p>+1 415 555 0100</p></div>
    <div class="c"><h3>Ben Ode</h3><p>+1 415 555 0142</p></div>"""
    contact = '<html lang="en"><p>Switchboard: +1 415 555 0100</p>'
    site = crawl(("/team", team, 6), ("/contact", contact, 5))
    lines = {p["value"]: (p["owner"], p["label"]) for p in site.phones}
    assert lines == {"+14155550100": (None, "main"), "+14155550142": ("Ben Ode", None)}


def test_one_persons_number_on_two_pages_in_two_spellings_stays_theirs() -> None:
    team = '<html lang="en"><div class="c"><h3>Li Wagner</h3><p>+1 415 555 0142</p></div>'
    profile = '<html lang="en"><div class="c"><h1>Dr. Li WAGNER</h1><p>+1 415 555 0142</p></div>'
    other = '<html lang="en"><div class="c"><h3>Li Kowalczyk</h3><p>+1 415 555 0142</p></div>'
    site = crawl(("/team", team, 6), ("/team/li-wagner", profile, 6))
    assert [(p["value"], p["owner"]) for p in site.phones] == [("+14155550142", "Li Wagner")]
    site = crawl(("/team", team, 6), ("/team/li-kowalczyk", other, 6))
    assert [(p["value"], p["owner"]) for p in site.phones] == [("+14155550142", None)]


def test_role_addresses_in_the_field_s_languages_are_roles() -> None:
    """Issue 8 §4: a role address teaches no pattern (and is never a person's)."""
    from leadsonar.domains.candidates import is_role_local_part

    roles = "info sales kontakt zentrale vertrieb rh ventes accueil hallo welcome anfrage".split()
    assert [r for r in roles if not is_role_local_part(r)] == []
    assert not any(is_role_local_part(p) for p in ("anna", "kowalczyk", "li.wagner", "roth"))


def test_a_number_owned_on_one_page_and_nobodys_on_another_is_the_companys() -> None:
    team = """<html lang="en"><div class="c"><h3>Jane Fox</h3><p>+1 415 555 0100</p></div>
    <div class="c"><h3>Ben Ode</h3><p>+1 415 555 0142</p></div>"""
    contact = '<html lang="en"><h1>Contact</h1><p>Call us: +1 415 555 0100</p>'
    site = crawl(("/team", team, 6), ("/contact", contact, 5))
    lines = {p["value"]: (p["owner"], p["label"]) for p in site.phones}
    assert lines == {"+14155550100": (None, "main"), "+14155550142": ("Ben Ode", None)}
