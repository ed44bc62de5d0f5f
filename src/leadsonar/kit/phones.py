"""Phone numbers through libphonenumber (the ``phonenumbers`` package).

LeadSonar answers phones in the spec's form ``+1-415-555-0192``: RFC 3966 without the ``tel:``
scheme (extensions as ``;ext=204``), and keeps E.164 (``+14155550192``) alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# Ranges a regulator reserves for fiction (TV, radio, books, test pages), which libphonenumber
# deliberately calls invalid although they are well formed: Ofcom's "Telephone numbers for
# drama" (https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/numbers-for-drama):
# 07700 900000–900999 mobile, 01632 960000–960999 fixed line. Other drama ranges (020 7946 0xxx,
# 0113 496 0xxx …) are valid in libphonenumber already. Keyed by country code and national-number
# prefix; the national number has 10 digits.
FICTIONAL_RANGES: dict[tuple[int, str], PhoneNumberType] = {
    (44, "7700900"): PhoneNumberType.MOBILE,
    (44, "1632960"): PhoneNumberType.FIXED_LINE,
}
FICTIONAL_LENGTH = 10


def range_type(number: phonenumbers.PhoneNumber) -> int | None:
    """libphonenumber's number type for a valid number, or the reserved fictional range's type
    (:data:`FICTIONAL_RANGES`) for a possible one; ``None`` when the number is neither."""
    if phonenumbers.is_valid_number(number):
        return int(phonenumbers.number_type(number))
    if not phonenumbers.is_possible_number(number):
        return None
    national = str(number.national_number)
    for (country, prefix), kind in FICTIONAL_RANGES.items():
        if (
            number.country_code == country
            and national.startswith(prefix)
            and len(national) == FICTIONAL_LENGTH
        ):
            return int(kind)
    return None


POSSIBLE_MIN_DIGITS = 8  # national digits a number of unknown range must have at least


def plausible_number(raw: str, number: phonenumbers.PhoneNumber, region: str | None) -> bool:
    """Whether a number whose range libphonenumber does not know is still well formed: its
    length fits its country, it has :data:`POSSIBLE_MIN_DIGITS` national digits or more, and
    a national form starts with the country's trunk prefix (``07 11 40 60 93`` in France, not
    ``12345678`` in Germany)."""
    if not phonenumbers.is_possible_number(number):
        return False
    if len(str(number.national_number)) < POSSIBLE_MIN_DIGITS:
        return False
    written = raw.strip().removeprefix("tel:").lstrip("(").strip()
    if written.startswith(("+", "00")) or region is None:
        return True
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    prefix = metadata.national_prefix if metadata is not None else None
    return not prefix or written.startswith(prefix)


@dataclass(frozen=True)
class Phone:
    """A parsed number: ``e164`` (``+14155550192``), ``display`` (``+1-415-555-0192``),
    ``extension`` or None, and ``mobile`` per libphonenumber's metadata."""

    e164: str
    display: str
    extension: str | None
    mobile: bool


def parse_phone(raw: str, region: str | None = None, *, possible: bool = False) -> Phone | None:
    """Parse ``raw`` (any national or international form) or return ``None`` if not a valid number
    (valid per libphonenumber, or in a reserved fictional range: :data:`FICTIONAL_RANGES`).

    Args:
        raw: the number as written.
        region: ISO 3166 alpha-2 region for national forms (``"US"``, ``"DE"``).
        possible: also accept a number whose length fits its country
            (``phonenumbers.is_possible_number``) but whose range libphonenumber's metadata does
            not know (metadata lags new allocations, e.g. French ``07 1x`` mobiles): for numbers
            the page itself states to be phone numbers (a ``tel:`` link, a vCard ``TEL``, a
            labelled field). Such a number is never ``mobile`` (its range says nothing).
    """
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    kind = range_type(number)
    if kind is None and possible and plausible_number(raw, number, region):
        kind = int(PhoneNumberType.UNKNOWN)
    if kind is None:
        return None
    display = phonenumbers.format_number(number, PhoneNumberFormat.RFC3966).removeprefix("tel:")
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        display=display,
        extension=number.extension or None,
        mobile=kind == PhoneNumberType.MOBILE,
    )


def display_from_e164(e164: str) -> str:
    """``+14155550192`` → ``+1-415-555-0192`` (the spec's form); unparsable input is returned.
    Numbers accepted as merely possible (:func:`parse_phone`) are formatted too."""
    phone = parse_phone(e164, possible=True)
    return phone.display if phone else e164
