"""Email address syntax: one place that says whether a string is a usable address.

The local part is checked by ``email-validator`` (RFC 5321/5322 syntax, no quoted forms); the
domain by :func:`leadsonar.kit.net.hostnames.domain_from_website` (IDNA 2008 A-label, public
suffix, reserved test TLDs only where allowed), so both checks live in the libraries and modules
that own them.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from leadsonar.exceptions import BadRequest, InvalidDomain
from leadsonar.kit.net.hostnames import domain_from_website

# A neutral, valid domain for checking a local part on its own.
_SYNTAX_DOMAIN = "example.com"


@lru_cache(maxsize=16_384)  # the prober asks it of the same candidate forms again and again
def local_part_is_valid(local_part: str) -> bool:
    """Whether ``local_part`` is acceptable to email-validator (FC-13: no ``lena.``, no ``..``,
    no spaces)."""
    try:
        validate_email(f"{local_part}@{_SYNTAX_DOMAIN}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def normalise_email(value: str, *, allow_reserved: bool = False) -> str:
    """``value`` as ``local@a-label-domain``, lower case.

    Raises:
        BadRequest: not an address, a bad local part, or a domain that cannot be a public
            domain (the sentence says which).
    """
    text = value.strip() if isinstance(value, str) else ""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise BadRequest(f"{text!r} is not an email address.")
    if not local_part_is_valid(local):
        raise BadRequest(f"{text!r} is not a valid email address (the part before the @).")
    try:
        a_label = domain_from_website(domain, allow_reserved=allow_reserved, strip_www=False)
    except InvalidDomain as exc:
        raise BadRequest(f"{text!r} has an unusable domain: {exc.message}") from None
    return f"{local.lower()}@{a_label}"
