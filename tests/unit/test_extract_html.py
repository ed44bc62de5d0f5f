"""The page tree (``leadsonar.domains.extract.html``): selectolax's HTML5 parse laid out as
text with element spans, links, head data and structured-data blocks."""

from __future__ import annotations

from leadsonar.domains.extract.html import Element, parse_html


def _chain(element: Element) -> list[str]:
    tags = []
    node: Element | None = element
    while node is not None:
        tags.append(node.tag)
        node = node.parent
    return tags


def test_blocks_make_lines_cells_tabs_and_whitespace_collapses() -> None:
    document = parse_html(
        "<div><h3>Anna  Roth</h3>\n  <p>Sales<br>Berlin</p></div>"
        "<table><tr><td>a</td><td>b</td></tr></table><span>x</span> <span>y</span>"
    )
    assert document.text.strip("\n").split("\n") == ["Anna Roth", "Sales", "Berlin", "a\tb", "x y"]


def test_implied_end_tags_follow_html5_not_our_guesses() -> None:
    """Unclosed ``<li>``/``<p>``/``<td>``: each item is its own element (WHATWG tree
    construction), so an item's span never swallows the next one."""
    document = parse_html("<ul><li>Anna Roth<li>Karl Beck</ul><p>one<p>two")
    anna = document.element_at(document.text.index("Anna"))
    karl = document.element_at(document.text.index("Karl"))
    assert anna.tag == karl.tag == "li" and anna is not karl
    assert document.text[anna.start : anna.end].strip() == "Anna Roth"
    assert _chain(karl)[:2] == ["li", "ul"]


def test_scripts_styles_templates_add_no_text_and_entities_are_decoded() -> None:
    document = parse_html(
        "<style>p{}</style><script>var a = '+1 415 555 0100';</script>"
        "<template><p>hidden</p></template><p>M&uuml;ller &amp; S&ouml;hne &#43;49</p>"
    )
    assert document.text.strip() == "Müller & Söhne +49"


def test_head_title_site_name_lang_and_json_ld() -> None:
    document = parse_html(
        '<html lang="de-AT"><head><title> Beispiel  GmbH </title>'
        '<meta property="og:site_name" content="Beispiel">'
        '<script type="Application/LD+JSON">{"@type": "Person"}</script></head>'
        "<body><p>Hallo</p></body></html>"
    )
    assert (document.title, document.site_name, document.lang) == (
        "Beispiel GmbH",
        "Beispiel",
        "de-AT",
    )
    assert document.jsonld == ['{"@type": "Person"}']
    assert "Person" not in document.text


def test_links_tel_mailto_and_cloudflare_become_items_with_their_element() -> None:
    document = parse_html(
        '<div class="card"><a href="tel:+1%20415%20555%200192">Call</a>'
        '<a href="mailto:anna@example.com?subject=Hi">Mail</a>'
        '<span data-cfemail="543d3a323b14312c35392438317a373b39">[email]</span>'
        '<a href="/team">Our team</a></div>'
    )
    assert [(i.kind, i.value, i.source) for i in document.items] == [
        ("phone", "+1 415 555 0192", "tel"),
        ("email", "anna@example.com", "mailto"),
        ("email", "info@example.com", "cloudflare"),
    ]
    assert document.items[0].element.tag == "a"
    assert "div" in _chain(document.items[0].element)
    href, start, end = document.links[-1]
    assert href == "/team" and document.text[start:end] == "Our team"


def test_footers_are_known_by_tag_class_id_or_role_but_not_a_card_footer() -> None:
    document = parse_html(
        '<div class="site-footer"><p>a</p></div><div role="contentinfo"><p>b</p></div>'
        '<div id="footer"><p>c</p></div><footer><p>d</p></footer>'
        '<div class="card"><div class="card-footer"><p>e</p></div></div>'
    )

    def sectioned(letter: str) -> bool:
        element: Element | None = document.element_at(document.text.index(letter))
        while element is not None:
            if element.sectioning:
                return True
            element = element.parent
        return False

    assert [sectioned(letter) for letter in "abcde"] == [True, True, True, True, False]


def test_very_deep_markup_neither_overflows_nor_loses_text() -> None:
    html = "<div>" * 3000 + "Anna Roth +1 415 555 0192" + "</div>" * 3000
    assert "Anna Roth +1 415 555 0192" in parse_html(html).text


def test_plain_text_is_a_page_too() -> None:
    assert parse_html("Anna Roth\nTel. 030 1234567").text.strip() == "Anna Roth Tel. 030 1234567"
