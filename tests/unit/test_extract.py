"""Every extraction rule of ``leadsonar.domains.extract`` with its right output; the field
cases of ``shared/cases/field-cases.md`` are named in the test ids (FC-08 … FC-11, FC-24 …
FC-28)."""

from __future__ import annotations

import phonenumbers
import pytest

from leadsonar.domains.extract import (
    clean_address,
    decode_cfemail,
    extract_page,
    extract_vcard,
    find_emails,
    find_names,
    find_phones,
    mailto_addresses,
    name_score,
    phone_label,
    region_for,
    split_name,
)
from leadsonar.providers.builtin.website import page_score, same_site


def emails(text: str) -> list[str]:
    return [address for address, _ in find_emails(text)]


def phones(text: str, region: str = "US") -> list[tuple[str, str | None]]:
    return [(p.e164, p.extension) for p, _, _ in find_phones(text, region)]


# -- emails ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "right"),
    [
        pytest.param(
            "m.keller [at] example-gmbh [dot] de", "m.keller@example-gmbh.de", id="FC-08-brackets"
        ),
        pytest.param(
            "vertrieb(at)example-gmbh(dot)de", "vertrieb@example-gmbh.de", id="FC-08-parens"
        ),
        pytest.param(
            "hanna(dot)berg(at)example(dot)com", "hanna.berg@example.com", id="FC-08-dot-in-local"
        ),
        pytest.param(
            "sales {at} example [dot] co [dot] uk", "sales@example.co.uk", id="FC-08-braces"
        ),
        pytest.param("info @ example.org", "info@example.org", id="FC-08-spaced-at"),
        pytest.param("john AT example DOT com", "john@example.com", id="FC-08-capital-words"),
        pytest.param("lena &lt;at&gt; example.com", None, id="entity-text-not-decoded-here"),
        pytest.param("anna<at>example.com", "anna@example.com", id="FC-08-angle"),
        pytest.param("Kontakt: hanna.berg@example.com", "hanna.berg@example.com", id="FC-09-label"),
        pytest.param(
            "Kontakt:hanna.berg@example.com", "hanna.berg@example.com", id="FC-09-no-space"
        ),
        pytest.param("Team%3Cinfo@example.com%3E", "info@example.com", id="FC-11-percent-text"),
        pytest.param("write to INFO@Example.COM.", "info@example.com", id="case-and-period"),
        pytest.param("bäckerei@bäckerei-müller.de", None, id="non-ascii-local-refused"),
        pytest.param(
            "info@bäckerei-müller.de", "info@xn--bckerei-mller-bfb28a.de", id="idn-domain"
        ),
    ],
)
def test_emails_in_text(text: str, right: str | None) -> None:
    assert emails(text) == ([right] if right else [])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("meet us at the fair, dot the i's", id="FC-08-prose"),
        pytest.param("Look at this (at) the top, (dot) the end", id="FC-08-prose-brackets"),
        pytest.param("hanna.be...@example.com", id="FC-09-elided-dots"),
        pytest.param("hanna.be…@example.com", id="FC-09-elided-ellipsis"),
        pytest.param('<img src="/assets/logo@2x.png">', id="FC-10-retina-png"),
        pytest.param("icon@3x.webp", id="FC-10-retina-webp"),
        pytest.param("sprite@2x.example.com", id="FC-10-retina-local"),
        pytest.param("user@localhost", id="no-public-suffix"),
        pytest.param("a@b.c", id="short-tld"),
    ],
)
def test_not_emails(text: str) -> None:
    assert emails(text) == []


@pytest.mark.parametrize(
    ("href", "right"),
    [
        pytest.param(
            "mailto:%20info@example.com?subject=Hallo%20Team",
            ["info@example.com"],
            id="FC-11-mailto",
        ),
        pytest.param(
            "mailto:a@example.com,b@example.com", ["a@example.com", "b@example.com"], id="two"
        ),
        pytest.param("MAILTO:<Sales@Example.com>", ["sales@example.com"], id="brackets-case"),
        pytest.param("mailto:", [], id="empty"),
    ],
)
def test_mailto(href: str, right: list[str]) -> None:
    assert mailto_addresses(href) == right


def test_fc11_mailto_and_text_give_one_address() -> None:
    html = (
        '<a href="mailto:%20info@example.com?subject=Hallo%20Team">Team%3Cinfo@example.com%3E</a>'
    )
    page = extract_page(html, "https://example.com/")
    assert [e.address for e in page.emails] == ["info@example.com"]


def test_fc10_image_sources_are_not_emails() -> None:
    page = extract_page(
        '<img src="/assets/logo@2x.png"><img srcset="icon@3x.webp 3x"><p>logo@2x.png</p>',
        "https://example.com/",
    )
    assert page.emails == []


def test_html_entities_are_decoded() -> None:
    page = extract_page("<p>anna&#46;berg&#64;example&#46;com</p>", "https://example.com/")
    assert [e.address for e in page.emails] == ["anna.berg@example.com"]


def test_cloudflare_email_protection() -> None:
    assert decode_cfemail("543d3a323b14312c35392438317a373b39") == "info@example.com"
    assert decode_cfemail("zz") is None and decode_cfemail("54") is None
    html = (
        '<span class="__cf_email__" data-cfemail="543d3a323b14312c35392438317a373b39">'
        "[email&#160;protected]</span>"
        '<a href="/cdn-cgi/l/email-protection#543d3a323b14312c35392438317a373b39">x</a>'
    )
    page = extract_page(html, "https://example.com/")
    assert [(e.address, e.source) for e in page.emails] == [("info@example.com", "cloudflare")]


def test_clean_address() -> None:
    assert clean_address("Info@Example.COM") == "info@example.com"
    assert clean_address("lena.@example.com") is None
    assert clean_address("banner@2x.gif") is None


# -- phones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "right"),
    [
        pytest.param("+1 650 555 0134 ext.", "US", [("+16505550134", None)], id="FC-24-bare-ext"),
        pytest.param("650-555-0134x204", "US", [("+16505550134", "204")], id="FC-24-extension"),
        pytest.param("(415) 555-0192 ext. 12", "US", [("+14155550192", "12")], id="ext-word"),
        pytest.param("+47 406 12 345", "US", [("+4740612345", None)], id="FC-25-norway-on-us"),
        pytest.param("03/2015 – 03/2016", "US", [], id="FC-26-month-range"),
        pytest.param("from 2015 – 2016 at Acme", "US", [], id="FC-26-year-range"),
        pytest.param("on 12.03.2015 we moved", "DE", [], id="FC-26-date"),
        pytest.param("0151/23456789", "DE", [("+4915123456789", None)], id="FC-27-de-mobile"),
        pytest.param("+44 (0) 20 7946 0018", "US", [("+442079460018", None)], id="FC-28-uk-0"),
        pytest.param("Tel. 030 12345678", "DE", [("+493012345678", None)], id="de-national"),
        pytest.param("01 42 68 53 00", "FR", [("+33142685300", None)], id="fr-national"),
        pytest.param("020 7946 0018", "GB", [("+442079460018", None)], id="gb-national"),
        pytest.param("Order #4155550192834", "US", [], id="inside-a-longer-number"),
    ],
)
def test_phones_in_text(text: str, region: str, right: list[tuple[str, str | None]]) -> None:
    assert phones(text, region) == right


def test_fc25_norwegian_number_is_mobile() -> None:
    [(phone, _, _)] = find_phones("+47 406 12 345", "US")
    assert phone.mobile


def test_fc28_is_a_fixed_line() -> None:
    [(phone, _, _)] = find_phones("+44 (0) 20 7946 0018", "US")
    number = phonenumbers.parse(phone.e164)
    assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
    assert not phone.mobile


def test_fc24_extension_is_kept_in_the_value() -> None:
    page = extract_page("<p>Direct: 650-555-0134x204</p>", "https://example.com/")
    assert [p.value for p in page.phones] == ["+16505550134;ext=204"]


@pytest.mark.parametrize(
    ("domain", "lang", "region"),
    [
        ("example.de", None, "DE"),
        ("example.co.uk", "en", "GB"),
        ("example.fr", "en", "FR"),
        ("notion.so", None, "US"),
        ("example.io", "de-AT", "AT"),
        ("example.com", "fr", "FR"),
        ("example.com", "en-GB", "GB"),
        ("example.com", None, "US"),
        (None, None, "US"),
    ],
)
def test_region_for(domain: str | None, lang: str | None, region: str) -> None:
    assert region_for(domain, lang) == region


@pytest.mark.parametrize(
    ("before", "after", "above", "label"),
    [
        ("Fax: ", "", "", "fax"),
        ("Telefax ", "", "", "fax"),
        ("Tel.: +49 30 1 | Fax: ", "", "", "fax"),
        ("Support hotline: ", "", "", "support"),
        ("Kundenservice ", "", "", "support"),
        ("Mobile: ", "", "", "mobile"),
        ("Mobil ", "", "", "mobile"),
        ("Direct: ", "", "", "direct"),
        ("Durchwahl ", "", "", "direct"),
        ("Ligne directe : ", "", "", "direct"),
        ("Main: ", "", "", "main"),
        ("Zentrale ", "", "", "main"),
        ("Standard : ", "", "", "main"),
        ("Switchboard: ", "", "", "main"),
        ("Tel.: ", "", "", None),
        ("Phone: ", "", "", None),
        ("", " (Fax)", "", "fax"),
        ("Tel.: ", " | Fax: +1", "", None),
        ("", "", "Fax", "fax"),
        ("", "", "This long sentence mentions our fax machine somewhere", None),
    ],
)
def test_phone_label(before: str, after: str, above: str, label: str | None) -> None:
    assert phone_label(before, after, above) == label


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Meet Alex Johnson, Head of Sales.", ["Alex Johnson"]),
        ("Dr. Jörg Großmann", ["Jörg Großmann"]),
        ("Marie DUPONT — Directrice commerciale", ["Marie DUPONT"]),
        ("Ludwig van Beethoven", ["Ludwig van Beethoven"]),
        ("J. Smith and Jean-Luc Perrin", ["J. Smith", "Jean-Luc Perrin"]),
        ("Nora O'Keeffe", ["Nora O'Keeffe"]),
        ("Our Team", []),
        ("Head of Sales", []),
        ("Vice President Marketing", []),
        ("Contact Us", []),
    ],
)
def test_find_names(text: str, names: list[str]) -> None:
    assert [name for name, _, _ in find_names(text)] == names


@pytest.mark.parametrize(
    ("first", "last", "seen", "matches"),
    [
        ("Jörg", "Großmann", "Jörg Großmann", True),
        ("Jorg", "Grossmann", "Jörg Großmann", True),
        ("Jörg", "Großmann", "Joerg Grossmann", True),
        ("Jörg", "Großmann", "J. Großmann", True),
        ("Marie", "Dupont", "DUPONT Marie", True),
        ("Hanna", "Berg", "Berg, Hanna", True),
        ("Élodie", "Marchand", "Elodie Marchand", True),
        ("Alex", "Johnson", "Dr. Alex Johnson", True),
        # no near spellings: a different letter is a different person (review 2)
        ("Alex", "Johnson", "Alex Johnston", False),
        ("Alex", "Johnson", "Maria Lopez", False),
        ("Alex", "Johnson", "Alex Smith", False),
        ("Alex", "Johnson", "Sam Johnson", False),
        ("Alex", "Johnson", "K. Johnson", False),
        ("Hanna", "Schäfer", "Anna Schäfer", False),
        ("Jörg", "Berg", "Jörg Borg", False),
        ("Mohammed", "Haddad", "Mohamed Haddad", False),
        ("Michael", "Berg", "Michaela Berg", False),
        ("Daniel", "Weber", "Daniela Weber", False),
        ("Christian", "Meyer", "Christina Meyer", False),
        ("Anna", "Schmidt", "Anna Schmitt", False),
        ("Lars", "Andersen", "Lars Anderson", False),
        ("Jan", "Petersen", "Jan Pedersen", False),
        ("Anna", "Lee", "Anna Leeds", False),
        ("Jane", "Smith", "John Smith", False),
        ("John", "Smith", "J. Smith", True),
        ("Hans", "Müller", "Hans Mueller", True),
        ("Hans", "Mueller", "Hans Müller", True),
        ("Hans", "Strauss", "Hans Strauß", True),
        ("Karl", "Müller Lüdenscheidt", "Karl Müller-Lüdenscheidt", True),
    ],
)
def test_name_score(first: str, last: str, seen: str, matches: bool) -> None:
    assert (name_score(first, last, seen) >= 85) is matches


def test_name_score_ranks_the_full_name_above_an_initial() -> None:
    assert name_score("John", "Smith", "John Smith") > name_score("John", "Smith", "J. Smith")


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Dr. Hanna Berg", ("Hanna", "Berg")),
        ("DUPONT Marie", ("Marie", "DUPONT")),
        ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
        ("Cher", None),
    ],
)
def test_split_name(name: str, parts: tuple[str, str] | None) -> None:
    assert split_name(name) == parts


# -- owners ---------------------------------------------------------------------------------------

CARDS = """<div class="people">
  <div class="card"><h3>Alex Johnson</h3><p>Head of Sales</p>
    <p>Direct: <a href="tel:+14155550192">+1 (415) 555-0192</a></p>
    <a href="mailto:alex.johnson@example.com">Email</a></div>
  <div class="card"><h3>Maria Lopez</h3><p>Mobile: +1 415 555 0177</p></div>
  <div class="card"><h3>Sam Lee</h3><p>Engineer</p></div>
</div>
<footer><p>Example Inc., 2300 Harrison St, San Francisco</p>
<p>Main: (415) 555-0100 | Fax: (415) 555-0101 | Support: 415-555-0111</p></footer>"""


def _by_value(
    html: str, url: str = "https://example.com/team"
) -> dict[str, tuple[str | None, str | None]]:
    return {p.value: (p.owner, p.label) for p in extract_page(html, url).phones}


def test_cards_own_their_numbers_and_the_footer_is_the_companys() -> None:
    assert _by_value(CARDS) == {
        "+14155550192": ("Alex Johnson", "direct"),
        "+14155550177": ("Maria Lopez", "mobile"),
        "+14155550100": (None, "main"),
        "+14155550101": (None, "fax"),
        "+14155550111": (None, "support"),
    }
    page = extract_page(CARDS, "https://example.com/team")
    assert [(e.address, e.owner) for e in page.emails] == [
        ("alex.johnson@example.com", "Alex Johnson")
    ]
    assert "San Francisco" not in page.names and "Harrison St" not in page.names


def test_a_footer_line_after_team_cards_is_nobodys() -> None:
    # review 2: the footer's "Call us" line went to the last card's person
    html = """<main><h1>Our team</h1>
<div class="card"><h3>Anna Berg</h3><p>CEO</p><a href="mailto:anna.berg@acme.com">Email</a></div>
<div class="card"><h3>Peter Holm</h3><p>CTO</p><a href="mailto:peter.holm@acme.com">Email</a></div>
</main>
<footer><p>Call us: (415) 555-0100</p></footer>"""
    # nobody's number in a footer, header, nav or aside is the company's line (issue 8 §2)
    assert _by_value(html) == {"+14155550100": (None, "main")}
    for tag in ("header", "nav", "aside"):
        sectioned = html.replace("footer", tag)
        assert _by_value(sectioned) == {"+14155550100": (None, "main")}, tag


def test_a_name_in_a_sibling_card_does_not_own_the_line_after_it() -> None:
    html = """<div class="people">
<div class="card"><h3>Peter Holm</h3><p>CTO</p><a href="mailto:peter.holm@acme.com">Email</a></div>
<p>Call us: (415) 555-0100</p></div>"""
    assert _by_value(html) == {"+14155550100": (None, None)}


def test_a_name_in_a_footer_does_not_own_the_main_pages_numbers() -> None:
    html = "<main><p>Phone: +1 415 555 0100</p></main><footer><p>Anna Berg</p></footer>"
    assert _by_value(html) == {"+14155550100": (None, None)}


def test_a_name_in_prose_owns_the_number_after_it_not_the_one_before() -> None:
    html = "<p>Alex Johnson leads sales.</p><p>For press, call Maria Lopez at +1 415 555 0177.</p>"
    assert _by_value(html) == {"+14155550177": ("Maria Lopez", None)}


def test_definition_list_with_several_numbers_per_person() -> None:
    html = (
        "<dl><dt>Hanna Berg</dt><dd>Vertrieb · Tel. 030 1234567-22 · Mobil 0151/23456789</dd>"
        "<dt>Max Weber</dt><dd>Technik · Tel. 030 1234567-30</dd></dl>"
    )
    assert _by_value(html, "https://example.de/team") == {
        "+4930123456722": ("Hanna Berg", None),
        "+4915123456789": ("Hanna Berg", "mobile"),
        "+4930123456730": ("Max Weber", None),
    }


def test_legal_representative_does_not_own_the_imprints_switchboard() -> None:
    html = (
        "<p>Beispiel GmbH<br>Musterstraße 1<br>10115 Berlin</p>"
        "<p>Vertreten durch: Jörg Großmann</p>"
        "<p>Kontakt:<br>Telefon: 030 12345678<br>Telefax: 030 12345679</p>"
    )
    assert _by_value(html, "https://beispiel.de/impressum") == {
        "+493012345678": (None, None),
        "+493012345679": (None, "fax"),
    }


def test_legal_representative_with_a_number_on_the_same_line() -> None:
    html = "<p>Geschäftsführer: Jörg Großmann, Tel. 030 1234567-10</p>"
    assert _by_value(html, "https://beispiel.de/impressum") == {
        "+4930123456710": ("Jörg Großmann", None)
    }


def test_role_addresses_have_no_owner() -> None:
    html = "<div><h3>Alex Johnson</h3><p>sales@example.com</p></div>"
    page = extract_page(html, "https://example.com/")
    assert [(e.address, e.owner) for e in page.emails] == [("sales@example.com", None)]


def test_table_rows() -> None:
    html = (
        "<table><tr><th>Name</th><th>Phone</th></tr>"
        "<tr><td>Alex Johnson</td><td>+1 415 555 0192</td></tr>"
        "<tr><td>Maria Lopez</td><td>+1 415 555 0177</td></tr></table>"
    )
    assert _by_value(html) == {
        "+14155550192": ("Alex Johnson", None),
        "+14155550177": ("Maria Lopez", None),
    }


def test_json_ld_person_and_organization() -> None:
    html = """<script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [
      {"@type": "Organization", "telephone": "+1-212-555-0100", "faxNumber": "+1-212-555-0101",
       "email": "info@example.com",
       "contactPoint": {"@type": "ContactPoint", "telephone": "+1-212-555-0111",
                        "contactType": "customer support"}},
      {"@type": "Person", "givenName": "Dana", "familyName": "Whitfield",
       "telephone": "+1-212-555-0142", "email": "mailto:dana@example.com"}]}
    </script><script type="application/ld+json">{not json</script>"""
    page = extract_page(html, "https://example.com/")
    assert _by_value(html) == {
        "+12125550100": (None, "main"),
        "+12125550101": (None, "fax"),
        "+12125550111": (None, "support"),
        "+12125550142": ("Dana Whitfield", None),
    }
    assert {(e.address, e.owner) for e in page.emails} == {
        ("info@example.com", None),
        ("dana@example.com", "Dana Whitfield"),
    }


def test_vcard() -> None:
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Marchand;Élodie;;;\r\nEMAIL;TYPE=work:elodie@exemple.fr\r\n"
        "TEL;TYPE=cell:+33 6 12 34 56 78\r\nTEL;TYPE=work,fax:+33 1 42 68 53 09\r\n"
        "TEL;TYPE=work,voice:01 42 68 53 \r\n 07\r\nEND:VCARD\r\n"
    )
    page = extract_vcard(card, "FR")
    assert page.names == ["Élodie Marchand"]
    assert [(e.address, e.owner) for e in page.emails] == [("elodie@exemple.fr", "Élodie Marchand")]
    assert [(p.value, p.label, p.mobile) for p in page.phones] == [
        ("+33612345678", "mobile", True),
        ("+33142685309", "fax", False),
        ("+33142685307", "direct", False),
    ]


def test_pages_without_lang_use_the_sites() -> None:
    html = "<p>Main: 030 1234567</p>"
    assert [p.value for p in extract_page(html, "http://firma.test/kontakt").phones] == []
    page = extract_page(html, "http://firma.test/kontakt", lang="de")
    assert [p.value for p in page.phones] == ["+49301234567"]


def test_page_metadata_and_links() -> None:
    html = """<html lang="de-DE"><head><title>Beispiel | Team</title>
    <meta property="og:site_name" content="Beispiel"></head><body>
    <a href="/impressum">Impressum</a> <a href="mailto:x@example.de">m</a>
    <a href="https://other.example/x#top">Other</a></body></html>"""
    page = extract_page(html, "https://beispiel.de/")
    assert (page.title, page.site_name, page.lang) == ("Beispiel | Team", "Beispiel", "de-DE")
    assert page.links == [
        ("https://beispiel.de/impressum", "Impressum"),
        ("https://other.example/x#top", "Other"),
    ]


def test_scripts_and_styles_are_not_text() -> None:
    html = "<script>var tel = '+1 415 555 0192'; var m='a@example.com'</script><style>a{}</style>"
    page = extract_page(html, "https://example.com/")
    assert page.phones == [] and page.emails == []


# -- crawl helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "text", "score"),
    [
        ("https://x.com/team", "", 6),
        ("https://x.com/de/ueber-uns", "", 4),
        ("https://x.com/a", "Notre équipe", 6),
        ("https://x.com/impressum", "", 4),
        ("https://x.com/careers", "Jobs", 0),
        ("https://x.com/b", "Kontakt", 5),
    ],
)
def test_page_score(url: str, text: str, score: int) -> None:
    assert page_score(url, text) == score


def test_same_site() -> None:
    assert same_site("https://www.example.com/a", "example.com")
    assert same_site("http://example.com/", "example.com")
    assert not same_site("https://example.com.evil.net/", "example.com")
    assert not same_site("ftp://example.com/", "example.com")
    assert not same_site("https://notexample.com/", "example.com")


# -- prose that only looks like contact data (review findings) -----------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Order #4155550192 shipped.",
        "Invoice 2125551234 is due.",
        "Tracking number 6505550134",
        "Bestellnummer 0301234599",
        "Kundennummer: 0301234599",
        "IBAN: DE89 3704 0044 0532 0130 00",
    ],
)
def test_identifiers_are_not_phones(line: str) -> None:
    region = "US" if "Order" in line or "Invoice" in line or "Tracking" in line else "DE"
    assert find_phones(line, region) == []


def test_a_phone_line_next_to_identifiers_is_still_read() -> None:
    found = find_phones("Telefon: 030 1234567", "DE")
    assert [phone.e164 for phone, _, _ in found] == ["+49301234567"]


@pytest.mark.parametrize(
    ("html", "label"),
    [
        ("<p>Fairfax office: +1 703 555 0142</p>", "office"),  # "Fairfax" is no fax line
        ("<p>Main office: +1 703 555 0142</p>", "main"),
        ("<p>Hours 9 a.m.: +1 703 555 0142</p>", None),  # "a.m.:" is no mobile label
        ("<p>Fax: +1 703 555 0199</p>", "fax"),
        ("<p>M: +1 703 555 0142</p>", "mobile"),
    ],
)
def test_labels_need_whole_words(html: str, label: str | None) -> None:
    page = extract_page(f"<html><body>{html}</body></html>", "https://acme.com/", domain="acme.com")
    assert [p.label for p in page.phones] == [label]


def test_register_and_court_words_are_not_names() -> None:
    html = """<html lang="de"><body><h1>Impressum</h1><p>ACME GmbH</p>
    <p>Telefon: 030 1234567</p>
    <p>Handelsregister: HRB 150148 B, Amtsgericht Charlottenburg</p></body></html>"""
    page = extract_page(html, "https://acme.de/impressum", domain="acme.de")
    assert [(p.value, p.owner) for p in page.phones] == [("+49301234567", None)]


@pytest.mark.parametrize(
    "text", ["Follow us @ twitter.com for news.", "©2024@acme.com", "Version 2.0@acme.com"]
)
def test_prose_glued_to_a_domain_is_not_an_address(text: str) -> None:
    assert find_emails(text) == []


def test_caps_obfuscation_is_read_without_inventing_an_owner() -> None:
    page = extract_page(
        "<html><body><p>Write to Anna AT Acme DOT com</p></body></html>",
        "https://acme.com/",
        domain="acme.com",
    )
    assert [(e.address, e.owner) for e in page.emails] == [("anna@acme.com", None)]
