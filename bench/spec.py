"""What a generalization world is made of, whatever its style: DNS records, mail servers, web
sites and lead-list queries with their right answers.

A world *style* (:mod:`bench.field_world`, :mod:`bench.classic_world`) builds a :class:`Spec`
from a seed; :mod:`bench.generalization` serves it on loopback and scores the product and the
naive baseline against it. Pure data: nothing here starts a server or imports the product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

Pages = Callable[[str], dict[str, Any]]
"""``base URL`` (``http://host:port``) → ``{path: html or leadsonar.testing.webserver.Response
keyword dict}``; a function because sitemaps carry absolute URLs and the port is only known
once the server is up."""


@dataclass(frozen=True)
class MailServer:
    """One SMTP server: its loopback address and ``SmtpWorld.serve`` keyword arguments."""

    ip: str
    behaviour: dict[str, Any]


@dataclass
class Site:
    """A website served for ``host`` (and ``www.host``) on ``ip``; with ``to_www``, the bare
    host answers every path with a ``301`` to the same path on ``www.host``."""

    host: str
    ip: str
    pages: Pages
    to_www: bool = False


@dataclass
class Records:
    """The loopback DNS zone: ``a`` host → IPs, ``mx`` domain → [(preference, host)],
    ``null_mx`` domains publishing RFC 7505 ``0 .``."""

    a: dict[str, list[str]] = field(default_factory=dict)
    mx: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    null_mx: set[str] = field(default_factory=set)

    def add_a(self, host: str, ip: str) -> None:
        self.a.setdefault(host, []).append(ip)


@dataclass(frozen=True)
class Query:
    """One lead-list row and its right answers.

    Attributes:
        index: position in the world's (shuffled) query order.
        first, last: the name as the lead list spells it (may carry a middle initial).
        website, company: what the row gives (``None`` when the column is empty).
        domain: the company's real domain (ground truth, never sent).
        ask_email, ask_phone: which endpoints the row is sent to.
        employee: False for a person who does not work there.
        email: the person's working address, or ``None`` (then any address is wrong).
        email_findable: ``"verify"`` (a truthful mail server can confirm it and the local part
            is a usual form of the name), ``"published"`` (the address is on the company's site
            next to the person's name), ``"sample"`` (catch-all domain whose site publishes
            identified addresses in the domain's pattern, and this one follows it), or ``None``.
        phone: the person's own number as E.164 with ``;ext=`` when published with their name
            on the company's site, else ``None`` (then the right ``phone`` is null).
        phone_type: ``direct`` or ``mobile`` for ``phone`` (from the number's range).
        switchboard: the company's main line as a comparison key (:func:`phone_key`).
        company_lines: keys of every company number that is nobody's own (switchboard, fax,
            support).
        resolvable: the company's domain can be found from its name by the field's naming
            conventions (first word or two, ``get``/``hq``/… affixes, the country's TLD).
        kinds: breakdown labels: ``mail``, ``mode``, ``name``, ``layout``, ``tld``.
        phone_twin: keys (:func:`phone_key`) of numbers the site publishes for a colleague
            whose request is this row's to the letter (same first and last name, no middle
            initial on the page or in the row; the world sends such a pair once): nothing in
            the request or on the page tells which of the two the number is, so answering it
            is scored neither right nor wrong (counted apart, ``phone_twin_answers``).
    """

    index: int
    first: str
    last: str
    website: str | None
    company: str | None
    domain: str
    ask_email: bool
    ask_phone: bool
    employee: bool
    email: str | None
    email_findable: str | None
    phone: str | None
    phone_type: str | None
    switchboard: str | None
    company_lines: frozenset[str]
    resolvable: bool
    kinds: dict[str, str]
    phone_twin: frozenset[str] = frozenset()


@dataclass
class Spec:
    """A whole world: the zone, the servers, the sites and the queries."""

    style: str
    seed: int
    records: Records
    mail: list[MailServer]
    sites: list[Site]
    queries: list[Query]
    dead_ips: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    knowledge: list[tuple[str, str]] = field(default_factory=list)
    """Organisations a public knowledge base (Wikidata) knows: ``(label, official website)``."""

    def smtp_hosts(self) -> list[str]:
        """Every address an SMTP server listens on or an MX points to (dead ones refuse)."""
        return sorted({m.ip for m in self.mail} | set(self.dead_ips))

    def web_hosts(self) -> list[str]:
        return sorted({s.ip for s in self.sites})


def phone_key(text: str | None, region: str | None = None) -> str | None:
    """A number's comparison key, ``"<country code>:<national number><extension>"``, so that
    ``+49 30 1234567-214`` and ``+49-30-1234567 ext. 214`` compare equal, and ``+44 7700
    900123`` equals ``07700 900123`` read in GB. ``None`` when ``text`` is not a number
    (phonenumbers' parser; validity is not required: Ofcom's drama ranges are not "valid")."""
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return f"{number.country_code}:{number.national_number}{number.extension or ''}"


def e164(text: str, region: str | None) -> str:
    """``text`` as E.164, with ``;ext=N`` when it carries an extension (RFC 3966 style)."""
    number = phonenumbers.parse(text, region)
    base = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return base + (f";ext={number.extension}" if number.extension else "")
