"""Whose is a number (issue 8 §2): a number belongs to a person only when the page ties it to
that person's card, row or list entry; a footer's, a shared or a labelled company line is
nobody's. Each page below is a layout seen in the field."""

from __future__ import annotations

import pytest

from leadsonar.domains.extract import extract_page


def owners(html: str, domain: str = "acme.com") -> dict[str, tuple[str | None, str | None]]:
    """``{value: (owner, label)}`` of the page's numbers."""
    page = extract_page(html, f"https://{domain}/team", domain=domain)
    return {p.value: (p.owner, p.label) for p in page.phones}


def test_article_cards_with_a_footer_switchboard_and_namesakes() -> None:
    """A number printed next to "Li Wagner" is never "Li Kowalczyk"'s, and the footer's line
    is the company's, not the last card's."""
    html = """<html lang="en"><body><h1>Team</h1><div class="grid">
    <article><img src="a.jpg"><h3>Li Wagner</h3><p>Sales Director</p><p>+1 415 555 0142</p>
      <p>li.wagner@acme.com</p></article>
    <article><img src="b.jpg"><h3>Li Kowalczyk</h3><p>Engineer</p></article>
    <article><h3>Tom Hardy</h3><p>CFO</p><p><a href="tel:+14155550143">Call Tom</a></p></article>
    </div><footer><p>Acme Inc · 1 Main St, Springfield</p><p>+1 415 555 0100</p></footer>"""
    assert owners(html) == {
        "+14155550142": ("Li Wagner", None),
        "+14155550143": ("Tom Hardy", None),
        "+14155550100": (None, "main"),
    }


@pytest.mark.parametrize(
    "footer",
    [
        '<div class="site-footer"><p>Acme Inc.</p><p>+1 415 555 0100</p></div>',
        '<div id="footer"><p>Acme Inc.</p><p>+1 415 555 0100</p></div>',
        '<div role="contentinfo"><p>Acme Inc.</p><p>+1 415 555 0100</p></div>',
    ],
)
def test_a_footer_without_the_footer_tag_is_still_the_companys(footer: str) -> None:
    html = f"""<html lang="en"><body><div class="team">
    <div class="member"><h3>Li Wagner</h3><p>Sales</p><p>+1 415 555 0142</p></div>
    <div class="member"><h3>Li Kowalczyk</h3><p>Engineering</p></div></div>{footer}"""
    assert owners(html) == {"+14155550142": ("Li Wagner", None), "+14155550100": (None, "main")}


def test_every_number_in_one_card_is_that_persons_and_labels_still_count() -> None:
    html = """<html lang="de"><body>
    <div class="person"><h4>Anna Roth</h4><dl><dt>Telefon</dt><dd>+49 30 1234567-214</dd>
      <dt>E-Mail</dt><dd>a.roth@beispiel.de</dd></dl></div>
    <div class="person"><h4>Karl Beck</h4><dl><dt>Telefon</dt><dd>+49 30 1234567-215</dd>
      <dt>Mobil</dt><dd>0171 2345678</dd><dt>Zentrale</dt><dd>+49 30 1234567-0</dd></dl></div>
    <footer>Zentrale: +49 30 1234567-0</footer></body></html>"""
    assert owners(html, "beispiel.de") == {
        "+49301234567214": ("Anna Roth", None),
        "+49301234567215": ("Karl Beck", None),
        "+491712345678": ("Karl Beck", "mobile"),
        "+493012345670": (None, "main"),
    }


def test_definition_list_of_names_and_list_item_cards() -> None:
    dl = """<html lang="de"><dl><dt>Anna Roth</dt><dd>Vertrieb</dd><dd>Tel. 030 1234567-214</dd>
    <dt>Karl Beck</dt><dd>Einkauf</dd><dd>Tel. 030 1234567-215</dd></dl>"""
    assert owners(dl, "beispiel.de") == {
        "+49301234567214": ("Anna Roth", None),
        "+49301234567215": ("Karl Beck", None),
    }
    ul = """<html lang="en"><ul class="team">
    <li><strong>Jane Fox</strong><br>Head of Ops<br>T: +1 (415) 555-0150</li>
    <li><strong>Omar Haddad</strong><br>Account Executive<br>T: +1 (415) 555-0151 ext. 12</li>
    <li><strong>Greta Lind</strong><br>Support</li></ul><p>Call us: +1 415 555 0100</p>"""
    assert owners(ul) == {
        "+14155550150": ("Jane Fox", None),
        "+14155550151;ext=12": ("Omar Haddad", None),
        "+14155550100": (None, None),
    }


def test_one_number_in_several_cards_is_the_companys() -> None:
    html = """<html lang="en">
    <div class="card"><h3>Amy Ng</h3><p>+1 415 555 0100</p></div>
    <div class="card"><h3>Ben Ode</h3><p>+1 415 555 0100</p></div>
    <div class="card"><h3>Cy Pratt</h3><p>+1 415 555 0100</p><p>Direct +1 415 555 0188</p></div>"""
    assert owners(html) == {"+14155550100": (None, "main"), "+14155550188": ("Cy Pratt", "direct")}


def test_name_below_the_number_in_its_card_and_names_in_capitals() -> None:
    html = """<html lang="en">
    <div class="card"><p>+1 415 555 0170</p><h3>Zoe Lam</h3></div>
    <div class="card"><p>+1 415 555 0171</p><h3>Ray Cho</h3></div>
    <div class="card"><h3>ANNA ROTH</h3><p>+1 415 555 0190</p></div>
    <div class="card"><h3>Daniel J. Moreau</h3><p>+1 415 555 0191</p></div>"""
    assert owners(html) == {
        "+14155550170": ("Zoe Lam", None),
        "+14155550171": ("Ray Cho", None),
        "+14155550190": ("ANNA ROTH", None),
        "+14155550191": ("Daniel J. Moreau", None),
    }


def test_obfuscated_numbers_entities_split_spans_and_non_breaking_hyphens() -> None:
    html = """<html lang="en">
    <div class="card"><h3>Ivy Stone</h3><p>Phone: &#43;1&#32;415&#32;555&#32;0160</p></div>
    <div class="card"><h3>Max Grün</h3><p>Tel: <span>+1 415</span> <span>555 0161</span></p></div>
    <div class="card"><h3>Sue Park</h3><p>Tel: +1 (415) 555&#8209;0162</p></div>"""
    assert owners(html) == {
        "+14155550160": ("Ivy Stone", None),
        "+14155550161": ("Max Grün", None),
        "+14155550162": ("Sue Park", None),
    }


def test_uk_cards_with_drama_range_mobiles() -> None:
    html = """<html lang="en-GB"><div class="team">
    <div class="member"><h3>Oliver Smith</h3><span>M: 07700 900123</span></div>
    <div class="member"><h3>Emma Hill</h3><span>T: +44 20 7946 0958</span></div></div>"""
    page = extract_page(html, "https://acme.com/team", domain="acme.com")
    assert [(p.value, p.owner, p.mobile) for p in page.phones] == [
        ("+447700900123", "Oliver Smith", True),
        ("+442079460958", "Emma Hill", False),
    ]


def test_a_card_printing_the_footers_switchboard_does_not_make_it_the_persons() -> None:
    """The small company's CEO card shows the main line; the footer prints it too: it is the
    company's. A desk line labelled "Office" in one card only is the person's."""
    html = """<html lang="en"><div class="card"><h3>Amy Ng</h3><p>CEO</p><p>+1 415 555 0100</p></div>
    <div class="card"><h3>Ben Ode</h3><p>Office: +1 415 555 0120</p><p>Mobile: +1 415 555 0121</p>
    </div><footer>Acme · +1 415 555 0100</footer>"""
    assert owners(html) == {
        "+14155550100": (None, "main"),
        "+14155550120": ("Ben Ode", "office"),
        "+14155550121": ("Ben Ode", "mobile"),
    }


def test_hidden_decoys_and_reversed_text_are_read_as_shown() -> None:
    html = """<html lang="en">
    <div class="card"><h3>Ivy Stone</h3>
      <p>Tel: +1 415 <span style="display: none">999</span>555 0160</p></div>
    <div class="card"><h3>Max Lee</h3>
      <p>Tel: <span style="unicode-bidi: bidi-override; direction: rtl">1610 555 514 1+</span></p>
      <p hidden>+1 415 555 0199</p></div>"""
    assert owners(html) == {"+14155550160": ("Ivy Stone", None), "+14155550161": ("Max Lee", None)}


def test_a_department_in_a_job_title_is_not_the_numbers_label() -> None:
    """ "Head of Customer Support · Tel." in a person's card is their number; "Support
    hotline:" and "Zentrale, Tel." are the company's."""
    html = """<html lang="en">
    <div class="card"><h3>Greta Lind</h3><p>Head of Customer Support · Tel. +1 415 555 0155</p></div>
    <div class="card"><h3>Omar Haddad</h3><p>Office Manager, T: +1 415 555 0156</p></div>
    <p>Support hotline: +1 415 555 0111</p>"""
    assert owners(html) == {
        "+14155550155": ("Greta Lind", None),
        "+14155550156": ("Omar Haddad", None),
        "+14155550111": (None, "support"),
    }


def test_a_job_title_line_above_the_number_is_no_label_but_a_term_is() -> None:
    html = """<html lang="en">
    <div class="card"><h3>Greta Lind</h3><p>Customer Support</p><p>+1 415 555 0157</p></div>
    <div class="card"><h3>Ray Cho</h3><p>Reception</p><p>+1 415 555 0158</p></div>
    <dl><dt>Fax</dt><dd>+1 415 555 0101</dd></dl><p>Switchboard:</p><p>+1 415 555 0100</p>"""
    assert owners(html) == {
        "+14155550157": ("Greta Lind", None),
        "+14155550158": ("Ray Cho", None),
        "+14155550101": (None, "fax"),
        "+14155550100": (None, "main"),
    }


def test_an_imprints_numbers_are_the_companys_unless_on_a_names_line() -> None:
    html = """<html lang="en"><head><title>Legal notice</title></head><div class="content">
    <p>Acme LLC</p><p>CEO: John Smith</p><p>Phone: +1 415 555 0100</p>
    <p>Press: Jane Fox +1 415 555 0144</p></div>"""
    assert owners(html) == {"+14155550100": (None, None), "+14155550144": ("Jane Fox", None)}


def test_a_portrait_whose_alt_text_is_the_name_names_its_card() -> None:
    html = """<html lang="en">
    <div class="card"><img src="li.jpg" alt="Li Wagner"><p>Sales</p><p>+1 415 555 0142</p></div>
    <div class="card"><img src="kw.jpg" alt="Li Kowalczyk"><p>Engineering</p></div>
    <div class="card"><img src="logo.png" alt="Acme logo"><p>+1 415 555 0100</p></div>"""
    page = extract_page(html, "https://acme.com/team", domain="acme.com")
    assert {p.value: p.owner for p in page.phones} == {
        "+14155550142": "Li Wagner",
        "+14155550100": None,
    }
    assert page.names == ["Li Wagner", "Li Kowalczyk"]


@pytest.mark.parametrize(
    "people",
    [
        '<div class="c"><h3>Emma Berg</h3><p>Engineer</p><p>+49 30 1234567-0</p></div>'
        '<div class="c"><h3>Nia Lam</h3><p>Tel. +49 30 1234567-214</p></div>',
        "<table><tr><th>First name</th><th>Last name</th><th>Direct</th></tr>"
        "<tr><td>Emma</td><td>Berg</td><td>+49 30 1234567-0</td></tr>"
        "<tr><td>Nia</td><td>Lam</td><td>+49 30 1234567-214</td></tr></table>",
        '<div class="h-card"><span class="p-name">Emma Berg</span> '
        '<a class="p-tel" href="tel:+493012345670">+49 30 1234567-0</a></div>'
        '<div class="h-card"><span class="p-name">Nia Lam</span> '
        '<span class="p-tel">+49 30 1234567-214</span></div>',
    ],
)
def test_the_switchboard_in_one_card_and_again_on_its_own_is_the_companys(people: str) -> None:
    """A person without a direct line whose card shows the switchboard, which the page prints
    once more with nobody's name ("Call us"): the company's, not Emma's direct dial."""
    html = f'<html lang="de">{people}<p>Rufen Sie uns an: +49 30 1234567-0</p>'
    found = owners(html, "acme.de")
    assert found["+493012345670"] == (None, "main")
    assert found["+49301234567214"][0] == "Nia Lam"
