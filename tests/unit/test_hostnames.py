"""Website values → A-label mail domains (FC-14), and the values refused with a 400."""

from __future__ import annotations

import pytest

from leadsonar.exceptions import InvalidDomain
from leadsonar.kit.net.hostnames import (
    display_domain,
    domain_from_website,
    registrable_domain,
    to_a_label,
)

ACCEPTED = [
    ("stripe.com", "stripe.com"),
    ("https://www.Stripe.com/about?x", "stripe.com"),
    ("WWW.stripe.com.", "stripe.com"),
    ("  http://stripe.com:8080/path  ", "stripe.com"),
    ("//stripe.com", "stripe.com"),
    ("stripe.com/about", "stripe.com"),
    ("mail.eu.example.co.uk", "mail.eu.example.co.uk"),  # subdomains are kept
    ("www.example.co.uk", "example.co.uk"),
    ("www.com", "www.com"),  # www is the registrable name here, not a prefix
    ("shop.www.example.com", "shop.www.example.com"),
    # FC-14: IDNA 2008 with UTS #46 mapping; A-label out
    ("bäckerei-müller.de", "xn--bckerei-mller-bfb28a.de"),
    ("https://www.Bäckerei-Müller.de/impressum", "xn--bckerei-mller-bfb28a.de"),
    ("mañana.com", "xn--maana-pta.com"),
    ("faß.de", "xn--fa-hia.de"),  # IDNA 2008: ß is kept, not mapped to ss
    ("ＳＴＲＩＰＥ．ｃｏｍ", "stripe.com"),  # full-width letters and full stop
    ("xn--bckerei-mller-bfb28a.de", "xn--bckerei-mller-bfb28a.de"),
    ("XN--BCKEREI-MLLER-BFB28A.DE", "xn--bckerei-mller-bfb28a.de"),
    ("例子.中国", "xn--fsqu00a.xn--fiqs8s"),
]


@pytest.mark.parametrize(("value", "domain"), ACCEPTED)
def test_domain_from_website(value: str, domain: str) -> None:
    assert domain_from_website(value) == domain


def test_fc14_ideographic_full_stop_under_a_reserved_test_tld() -> None:
    assert domain_from_website("例え。テスト", allow_reserved=True) == "xn--r8jz45g.xn--zckzah"


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("example.test", "example.test"),
        ("www.acme.example", "acme.example"),
        ("mx.a.test", "mx.a.test"),
    ],
)
def test_reserved_test_tlds_only_when_allowed(value: str, domain: str) -> None:
    assert domain_from_website(value, allow_reserved=True) == domain
    with pytest.raises(InvalidDomain, match="reserved"):
        domain_from_website(value)


REFUSED = [
    "",
    "   ",
    "stripe .com",
    "https://",
    "127.0.0.1",
    "http://127.0.0.1:8080/",
    "[::1]",
    "http://[::1]/",
    "[::1",
    "localhost",
    "foo.localhost",
    "printer.local",
    "abc.onion",
    "router.home.arpa",
    "1.0.0.127.in-addr.arpa",
    "example.invalid",
    "intranet",
    "xn--zz.com",  # malformed A-label (FC-14: a 400, not a crash)
    "a_b.com",
    "-acme.com",
    "acme..com",
    "acme.notarealtld",
    "co.uk",  # a public suffix alone
    "a" * 64 + ".com",  # label over 63 octets
    ".".join(["abcdefghi"] * 26) + ".com",  # over 253 octets
]


@pytest.mark.parametrize("value", REFUSED)
def test_refused_values_raise_invalid_domain(value: str) -> None:
    with pytest.raises(InvalidDomain) as raised:
        domain_from_website(value, allow_reserved=True)
    assert raised.value.status_code == 400
    assert raised.value.message.endswith(".") or raised.value.message.endswith(")")


def test_display_domain_gives_unicode_back() -> None:
    assert display_domain("xn--bckerei-mller-bfb28a.de") == "bäckerei-müller.de"
    assert display_domain("xn--r8jz45g.xn--zckzah") == "例え.テスト"
    assert display_domain("stripe.com") == "stripe.com"
    assert display_domain("xn--zz.com") == "xn--zz.com"  # undecodable: shown as is


def test_to_a_label() -> None:
    assert to_a_label("Bäckerei-Müller.DE.") == "xn--bckerei-mller-bfb28a.de"
    with pytest.raises(InvalidDomain):
        to_a_label("")


@pytest.mark.parametrize("value", ["https://a.com\\@b.com", "user@example.com", "a.com\\b.com"])
def test_backslashes_and_user_info_are_refused(value: str) -> None:
    """Parsers disagree on the host of such values: refuse rather than guess."""
    with pytest.raises(InvalidDomain):
        domain_from_website(value)


@pytest.mark.parametrize(
    ("domain", "registrable"),
    [
        ("global.northwind.co.uk", "northwind.co.uk"),
        ("en.brightwave-group.com", "brightwave-group.com"),
        ("notion.so", "notion.so"),
        ("sonnenfeld.test", "sonnenfeld.test"),
    ],
)
def test_registrable_domain(domain: str, registrable: str) -> None:
    assert registrable_domain(domain) == registrable
