"""Website values → the mail domain LeadSonar looks up, in A-label form.

Callers give a company's website as people type it: ``stripe.com``,
``https://www.Stripe.com/about?x``, ``WWW.stripe.com.``, ``bäckerei-müller.de`` or
``例え。テスト``. :func:`domain_from_website` turns every such value into one lowercase
A-label domain (IDNA 2008 with UTS #46 mapping, RFC 5891 / UTS #46), the form used in DNS queries
and in RCPT commands (FC-14); :func:`display_domain` gives the Unicode form back for users.

Only ``www.`` is stripped: other subdomains are kept as given, because companies do receive mail
on subdomains. A value that cannot be a public internet domain is refused with
:class:`~leadsonar.exceptions.InvalidDomain` (HTTP 400) and a sentence saying why.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache
from urllib.parse import urlsplit

import idna
import tldextract

from leadsonar.exceptions import InvalidDomain

# RFC 6761 / RFC 9476 special-use names that never denote a public mail domain. Some of them are
# in the public suffix list (``onion``, ``home.arpa``), so they are refused by name.
_SPECIAL_USE_TLDS = frozenset({"localhost", "local", "onion", "arpa", "alt", "invalid", "internal"})

# Reserved testing TLDs (RFC 2606 ``test``, ``example``; the IANA IDN test TLDs, e.g. テスト).
# Accepted only with ``allow_reserved=True``: the app passes it when the operator allowed
# private networks, i.e. in tests and intranets.
RESERVED_TEST_TLDS = frozenset(
    {"test", "example"}
    | {
        idna.encode(label).decode("ascii")
        for label in (
            "テスト",
            "测试",
            "測試",
            "परीक्षा",
            "испытание",
            "테스트",
            "טעסט",
            "آزمایشی",
            "إختبار",
            "பரிட்சை",
            "δοκιμή",
        )
    }
)

# Full stops other scripts use as label separators (UTS #46 maps them to "."; RFC 3490 §3.1).
_DOTS = re.compile("[\u3002\uff0e\uff61]")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled public suffix list snapshot only: never fetched online, never cached on disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=16_384)  # IDNA 2008 checks are costly and names repeat within a lookup
def to_a_label(name: str) -> str:
    """The lowercase A-label (ASCII) form of a host name, without a trailing dot.

    Args:
        name: a host name in any case, Unicode or ASCII, with or without the final dot.

    Returns:
        e.g. ``"xn--bckerei-mller-bfb28a.de"`` for ``"Bäckerei-Müller.de."``.

    Raises:
        InvalidDomain: the name is empty, has an empty or over-long label, or a label that
            IDNA 2008 refuses (a malformed ``xn--`` label, ``_``, a leading hyphen, …).
    """
    name = _DOTS.sub(".", name.strip())
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise InvalidDomain("The domain is empty.")
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as error:
        raise InvalidDomain(f"{name!r} is not a valid domain name ({error}).") from error


def _host_of(value: str) -> str:
    """The host part of a URL-ish value (``https://user@Host:8080/path`` → ``Host``)."""
    text = _DOTS.sub(".", value)
    if not _SCHEME.match(text) and not text.startswith("//"):
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as error:
        raise InvalidDomain(f"{value!r} is not a website or domain.") from error
    if not host:
        raise InvalidDomain(f"{value!r} does not contain a domain name.")
    return host


@lru_cache(maxsize=16_384)  # a lead list and the API name the same companies again and again
def domain_from_website(value: str, *, allow_reserved: bool = False, strip_www: bool = True) -> str:
    """The mail domain for a website value, as a lowercase A-label without ``www.``.

    Args:
        value: a domain or URL as a person types it: ``"stripe.com"``,
            ``"https://www.Stripe.com/about?x"``, ``"WWW.stripe.com."``, ``"bäckerei-müller.de"``,
            ``"例え。テスト"`` (ideographic full stops are dots, FC-14).
        allow_reserved: also accept names under the reserved testing TLDs
            (:data:`RESERVED_TEST_TLDS`: ``.test``, ``.example`` and the IDN test TLDs). The app
            passes ``True`` only when ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS`` is set.
        strip_www: drop a leading ``www.`` (websites); ``False`` for the domain of an address.

    Returns:
        e.g. ``"stripe.com"``, ``"xn--bckerei-mller-bfb28a.de"``, ``"mail.eu.example.co.uk"``
        (subdomains other than a leading ``www.`` are kept).

    Raises:
        InvalidDomain: (400) the value is empty or contains spaces; it is an IP literal
            (``127.0.0.1``, ``[::1]``); it is ``localhost`` or another special-use name
            (RFC 6761); it is a single label; it is not valid IDNA (e.g. ``xn--zz.com``); its
            suffix is not in the public suffix list; or it is a public suffix itself
            (``co.uk``).
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidDomain("The website is empty; give a domain such as example.com.")
    if any(ch.isspace() for ch in text):
        raise InvalidDomain(f"{text!r} contains spaces; give a domain such as example.com.")
    if "\\" in text or "@" in text:
        # Browsers and URL parsers disagree on where the host of ``https://a.com\@b.com`` is.
        raise InvalidDomain(f"{text!r} contains '\\' or '@'; give the company's domain.")
    host = _host_of(text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise InvalidDomain(f"{host!r} is an IP address; give the company's domain name.")

    domain = to_a_label(host)
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidDomain(f"{domain!r} is a single-label name, not a public domain.")
    tld = labels[-1]
    if tld in _SPECIAL_USE_TLDS:
        raise InvalidDomain(f"{domain!r} is a special-use name that is not on the public internet.")
    if tld in RESERVED_TEST_TLDS:
        if not allow_reserved:
            raise InvalidDomain(f"{domain!r} is under a reserved testing domain.")
    else:
        parts = _extractor()(domain)
        if not parts.suffix:
            raise InvalidDomain(f"{domain!r} does not end in a public domain suffix.")
        if not parts.domain:
            raise InvalidDomain(f"{domain!r} is a public suffix, not a company's domain.")
        if parts.subdomain.split(".")[0] != "www":
            return domain
    if strip_www and labels[0] == "www" and len(labels) > 2:
        domain = domain[len("www.") :]
    return domain


def registrable_domain(domain: str) -> str:
    """The domain a registrant owns: ``global.northwind.co.uk`` → ``northwind.co.uk`` (the
    public suffix list bundled with tldextract); a name without a public suffix (reserved test
    TLDs) is returned unchanged."""
    found = _extractor()(domain).top_domain_under_public_suffix
    return found or domain


@lru_cache(maxsize=4_096)  # every answer shows its domain; IDNA decoding is not cheap
def display_domain(a_label: str) -> str:
    """The Unicode form of an A-label domain, for people to read.

    Args:
        a_label: e.g. ``"xn--bckerei-mller-bfb28a.de"``.

    Returns:
        e.g. ``"bäckerei-müller.de"``; the input unchanged if it cannot be decoded (never
        raises: this is for display only).
    """
    try:
        return idna.decode(a_label)
    except (idna.IDNAError, UnicodeError):
        return a_label
