"""Phone numbers through libphonenumber (the ``phonenumbers`` package).

LeadSonar answers phones in the spec's form ``+1-415-555-0192``: RFC 3966 without the ``tel:``
scheme (extensions as ``;ext=204``), and keeps E.164 (``+14155550192``) alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType


@dataclass(frozen=True)
class Phone:
    """A parsed number: ``e164`` (``+14155550192``), ``display`` (``+1-415-555-0192``),
    ``extension`` or None, and ``mobile`` per libphonenumber's metadata."""

    e164: str
    display: str
    extension: str | None
    mobile: bool


def parse_phone(raw: str, region: str | None = None) -> Phone | None:
    """Parse ``raw`` (any national or international form) or return ``None`` if not a valid number.

    Args:
        raw: the number as written.
        region: ISO 3166 alpha-2 region for national forms (``"US"``, ``"DE"``).
    """
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    display = phonenumbers.format_number(number, PhoneNumberFormat.RFC3966).removeprefix("tel:")
    kind = phonenumbers.number_type(number)
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        display=display,
        extension=number.extension or None,
        mobile=kind == PhoneNumberType.MOBILE,
    )


def display_from_e164(e164: str) -> str:
    """``+14155550192`` → ``+1-415-555-0192`` (the spec's form); unparsable input is returned."""
    phone = parse_phone(e164)
    return phone.display if phone else e164
