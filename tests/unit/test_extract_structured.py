"""Structured data that says whose a number is (issue 8 §2): JSON-LD ``Person`` /
``employee`` / ``ContactPoint``, microformats h-card and classic vcard, schema.org microdata,
and tables read by their header row."""

from __future__ import annotations

import json

from leadsonar.domains.extract import extract_page, jsonld_findings


def phones(html: str, domain: str = "acme.com") -> dict[str, tuple[str | None, str | None]]:
    page = extract_page(html, f"https://{domain}/team", domain=domain)
    return {p.value: (p.owner, p.label) for p in page.phones}


def test_json_ld_person_contact_points_are_theirs_and_the_employer_line_is_not() -> None:
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Acme",
        "telephone": "+1 212 555 0100",
        "faxNumber": "+1 212 555 0101",
        "contactPoint": {
            "@type": "ContactPoint",
            "telephone": "+1 212 555 0111",
            "contactType": "customer support",
        },
        "employee": [
            {
                "@type": "Person",
                "name": "Dana White",
                "contactPoint": {
                    "@type": "ContactPoint",
                    "telephone": "+1 212 555 0142",
                    "contactType": "sales",
                },
            },
            {
                "@type": "Person",
                "givenName": "Eli",
                "familyName": "Stone",
                "telephone": "+1 212 555 0143",
                "email": "mailto:eli.stone@acme.com",
                "worksFor": {"@type": "Organization", "telephone": "+1 212 555 0100"},
            },
        ],
    }
    emails, found, names = jsonld_findings([json.dumps(data), "{not json"], "US")
    assert names == ["Dana White", "Eli Stone"]
    assert {(p.value, p.owner, p.label) for p in found} == {
        ("+12125550100", None, "main"),
        ("+12125550101", None, "fax"),
        ("+12125550111", None, "support"),
        ("+12125550142", "Dana White", None),
        ("+12125550143", "Eli Stone", None),
    }
    assert [(e.address, e.owner) for e in emails] == [("eli.stone@acme.com", "Eli Stone")]


def test_json_ld_graph_on_a_page_outranks_the_text() -> None:
    graph = {
        "@graph": [
            {"@type": "Person", "name": "Nia Cole", "telephone": "+16505550179"},
            {"@type": "WebPage", "name": "Team"},
        ]
    }
    html = (
        f'<script type="application/ld+json">{json.dumps(graph)}</script>'
        "<p>Call +1 650 555 0179</p>"
    )
    assert phones(html) == {"+16505550179": ("Nia Cole", None)}


def test_h_card_classic_vcard_and_microdata() -> None:
    html = """<html lang="en"><body>
    <div class="h-card"><img class="u-photo" src="x.jpg"><span class="p-name">Rosa Park</span>
      <span class="p-job-title">VP</span><a class="p-tel" href="tel:+16505550177">Call</a>
      <a class="u-email" href="mailto:rosa@acme.com">Email</a></div>
    <div class="vcard"><span class="fn">Ken Ito</span><span class="tel"><span class="type">work</span>
      <span class="value">+1 650 555 0178</span></span></div>
    <div itemscope itemtype="https://schema.org/Person"><span itemprop="name">Nia Cole</span>
      <span itemprop="telephone">+1 650 555 0179</span></div>
    <div class="h-card"><span class="p-name">Acme Support</span>
      <span class="p-tel">Fax +1 650 555 0101</span></div></body></html>"""
    page = extract_page(html, "https://acme.com/team", domain="acme.com")
    assert {p.value: p.owner for p in page.phones} == {
        "+16505550177": "Rosa Park",
        "+16505550178": "Ken Ito",
        "+16505550179": "Nia Cole",
        "+16505550101": None,
    }
    assert {e.address: e.owner for e in page.emails}["rosa@acme.com"] == "Rosa Park"


def test_table_with_a_name_column_and_phone_columns_by_header() -> None:
    html = """<html lang="en-GB"><body><table>
    <thead><tr><th>Name</th><th>Role</th><th>Direct line</th><th>Mobile</th><th>Email</th></tr></thead>
    <tbody><tr><td>Oliver Smith</td><td>Director</td><td>020 7946 0321</td><td>07700 900123</td>
      <td><a href="mailto:o.smith@acme.co.uk">Email</a></td></tr>
    <tr><td>Amelia Jones</td><td>Sales</td><td>020 7946 0322</td><td></td><td></td></tr>
    <tr><td>Harry Brown</td><td>Finance</td><td></td><td>+44 7700 900 124</td><td></td></tr>
    </tbody></table><p>Switchboard 020 7946 0000</p></body></html>"""
    page = extract_page(html, "https://acme.co.uk/team", domain="acme.co.uk")
    assert {p.value: (p.owner, p.label, p.mobile) for p in page.phones} == {
        "+442079460321": ("Oliver Smith", "direct", False),
        "+447700900123": ("Oliver Smith", "mobile", True),
        "+442079460322": ("Amelia Jones", "direct", False),
        "+447700900124": ("Harry Brown", "mobile", True),
        "+442079460000": (None, "main", False),
    }
    assert {e.address: e.owner for e in page.emails} == {"o.smith@acme.co.uk": "Oliver Smith"}


def test_table_with_first_and_last_name_columns_and_extensions() -> None:
    """Without a name in one cell the text alone finds nobody; the header row does."""
    html = """<html lang="en"><body><table>
    <tr><th>First name</th><th>Last name</th><th>Title</th><th>Phone</th></tr>
    <tr><td>Ana</td><td>Silva</td><td>CEO</td><td>650-555-0134 x204</td></tr>
    <tr><td>Bo</td><td>Chen</td><td>CTO</td><td><a href="tel:+16505550135">call</a></td></tr>
    </table></body></html>"""
    assert phones(html) == {
        "+16505550134;ext=204": ("Ana Silva", None),
        "+16505550135": ("Bo Chen", None),
    }


def test_a_table_without_a_person_column_is_left_to_the_text() -> None:
    html = """<html lang="en"><table><tr><th>Office</th><th>Phone</th></tr>
    <tr><td>Berlin</td><td>+49 30 1234567</td></tr></table>"""
    assert phones(html) == {"+49301234567": (None, None)}
