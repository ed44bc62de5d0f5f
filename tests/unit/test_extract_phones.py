"""Numbers as the field writes them (issue 8 §2): UK mobiles and drama ranges, extensions,
German trunks with a direct-dial suffix, and ``type`` from the number's own range. The field
cases FC-24 … FC-28 stay in ``test_extract.py``."""

from __future__ import annotations

import pytest

from leadsonar.domains.extract import extract_page, find_phones
from leadsonar.kit.phones import display_from_e164, parse_phone


def read(text: str, region: str) -> list[tuple[str, str | None, bool]]:
    return [(p.e164, p.extension, p.mobile) for p, _, _ in find_phones(text, region)]


@pytest.mark.parametrize(
    ("text", "region", "right"),
    [
        ("Mobile: 07700 900123", "GB", [("+447700900123", None, True)]),
        ("M +44 7700 900123", "US", [("+447700900123", None, True)]),
        ("m: +44 (0)7700 900 124", "DE", [("+447700900124", None, True)]),
        ("07911 123456", "GB", [("+447911123456", None, True)]),
        ("Tel 020 7946 0958", "GB", [("+442079460958", None, False)]),
        ("01632 960123", "GB", [("+441632960123", None, False)]),
        ("+1 650 555 0134 ext. 12", "US", [("+16505550134", "12", False)]),
        ("650-555-0134 x204", "US", [("+16505550134", "204", False)]),
        ("(650) 555-0134 Ext 7", "US", [("+16505550134", "7", False)]),
        # a German trunk with the direct-dial suffix is one dialable number, not an extension
        ("+49 30 1234567-214", "DE", [("+49301234567214", None, False)]),
        ("030 1234567-22", "DE", [("+4930123456722", None, False)]),
        ("Zentrale +49 (0)30 1234567-0", "DE", [("+493012345670", None, False)]),
        ("0171 2345678", "DE", [("+491712345678", None, True)]),
        ("+33 6 12 34 56 78", "US", [("+33612345678", None, True)]),
    ],
)
def test_field_number_formats(
    text: str, region: str, right: list[tuple[str, str | None, bool]]
) -> None:
    assert read(text, region) == right


@pytest.mark.parametrize(
    "text",
    [
        "+44 7700 900",  # too short for the drama range
        "07700 9001234",  # too long
        "Order 07700 900123",  # an identifier
        "Version 4.4.7700.900123",
    ],
)
def test_near_misses_are_not_numbers(text: str) -> None:
    assert read(text, "GB") == []


def test_type_comes_from_the_range_never_from_the_label() -> None:
    """A number labelled "Mobile" in a fixed-line range is not a mobile; an unlabelled one in a
    mobile range is."""
    page = extract_page(
        '<html lang="en-GB"><div class="card"><h3>Oliver Smith</h3>'
        "<p>Mobile: 020 7946 0321</p><p>07700 900123</p></div>",
        "https://acme.co.uk/team",
    )
    kinds = {p.value: p.mobile for p in page.phones}
    assert kinds == {"+442079460321": False, "+447700900123": True}


def test_display_form_of_drama_mobiles_and_extensions() -> None:
    mobile = parse_phone("07700 900123", "GB")
    assert mobile is not None and (mobile.display, mobile.mobile) == ("+44-7700-900123", True)
    assert display_from_e164("+16505550134;ext=204") == "+1-650-555-0134;ext=204"
