"""What extraction returns: published addresses and numbers, and whose they are."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EmailFinding:
    """An address published on a page.

    Attributes:
        address: ``local@a-label-domain``, lower case.
        owner: the person it stands with, as written (``"Hanna Berg"``), or ``None``.
        source: ``mailto``, ``text``, ``cloudflare``, ``json-ld``, ``vcard``, ``markup`` or
            ``table``.
    """

    address: str
    owner: str | None = None
    source: str = "text"


@dataclass(frozen=True)
class PhoneFinding:
    """A number published on a page.

    Attributes:
        value: E.164, with ``;ext=NNN`` when it has an extension (``+16505550134;ext=204``).
        label: ``fax``, ``support``, ``main``, ``direct``, ``mobile`` or ``None`` (unlabelled).
        owner: the person it stands with, or ``None``.
        mobile: libphonenumber calls it a mobile number.
        source: ``tel``, ``text``, ``json-ld``, ``vcard``, ``markup`` (h-card, microdata) or
            ``table`` (a table with a header row).
    """

    value: str
    label: str | None = None
    owner: str | None = None
    mobile: bool = False
    source: str = "text"


@dataclass
class PageFindings:
    """What one page publishes.

    Attributes:
        emails: addresses, each once, in page order.
        phones: numbers, each once, in page order (fax lines included, labelled ``fax``).
        names: people's names seen, in page order.
        title: the ``<title>`` text, or ``None``.
        site_name: ``og:site_name``, or ``None``.
        lang: the ``<html lang>`` value, or ``None``.
        links: ``(absolute URL, link text)`` of every ``<a href>``, in page order.
        person_links: ``(absolute URL, owner)`` of links to one person's own file or page (a
            vCard download: ``….vcf``, ``/vcard/``, or a link saying ``vCard``; a "Profile" or
            "Read more" link) standing in that person's card or row: the crawl may leave them
            unread, a lookup for that person reads theirs.
    """

    emails: list[EmailFinding] = field(default_factory=list)
    phones: list[PhoneFinding] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    title: str | None = None
    site_name: str | None = None
    lang: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    person_links: list[tuple[str, str]] = field(default_factory=list)
