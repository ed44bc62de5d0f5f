"""The resolver against a real loopback DNS server (FC-14, FC-15, FC-16)."""

from __future__ import annotations

import asyncio

import pytest

from leadsonar.exceptions import InvalidDomain
from leadsonar.kit.net.dns import DnsError, MxAnswer, MxHost, Resolver, parse_server
from leadsonar.testing.dnsserver import LoopbackDns


async def test_mx_hosts_sorted_by_preference(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_mx(
        "example.test",
        [(20, "mx2.example.test"), (10, "MX1.example.test."), (20, "mx3.example.test")],
    )
    answer = await net_resolver.mx_hosts("example.test")
    assert answer == MxAnswer(
        "example.test",
        hosts=(
            MxHost(10, "mx1.example.test"),
            MxHost(20, "mx2.example.test"),
            MxHost(20, "mx3.example.test"),
        ),
    )
    assert not answer.no_mail


async def test_fc15_null_mx_means_no_mail_and_no_a_fallback(
    dns_zone: LoopbackDns, net_resolver: Resolver
):
    dns_zone.add_null_mx("nomail.test")
    dns_zone.add_a("nomail.test", "127.0.0.2")  # must be ignored (RFC 7505)
    answer = await net_resolver.mx_hosts("nomail.test")
    assert answer.null_mx and answer.no_mail
    assert answer.hosts == ()
    assert not answer.implicit
    assert ("nomail.test", "A") not in dns_zone.queries


async def test_fc16_implicit_mx_from_a_record(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_a("solo.test", "127.0.0.2")
    answer = await net_resolver.mx_hosts("solo.test")
    assert answer.implicit
    assert answer.hosts == (MxHost(0, "solo.test"),)
    assert not answer.no_mail


async def test_fc16_implicit_mx_from_aaaa_only(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_aaaa("six.test", "::1")
    answer = await net_resolver.mx_hosts("six.test")
    assert answer.implicit and answer.hosts == (MxHost(0, "six.test"),)


async def test_no_mx_and_no_address_is_no_mail(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_name("bare.test")
    answer = await net_resolver.mx_hosts("bare.test")
    assert answer == MxAnswer("bare.test")
    assert answer.no_mail and not answer.nxdomain


async def test_nxdomain(dns_zone: LoopbackDns, net_resolver: Resolver):
    answer = await net_resolver.mx_hosts("missing.test")
    assert answer.nxdomain and answer.no_mail and answer.error is None


async def test_servfail_is_an_error_not_no_mail(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.fail("broken.test", "servfail")
    answer = await net_resolver.mx_hosts("broken.test")
    assert answer.error is not None and "SERVFAIL" in answer.error
    assert not answer.no_mail and not answer.nxdomain


async def test_timeout_is_an_error_not_no_mail(dns_zone: LoopbackDns):
    dns_zone.fail("slow.test", "timeout")
    resolver = Resolver([dns_zone.address], timeout=0.3)
    answer = await resolver.mx_hosts("slow.test")
    assert answer.error is not None and "timed out" in answer.error
    assert not answer.no_mail


async def test_fc14_idn_domain_is_queried_as_a_label(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_mx("xn--bckerei-mller-bfb28a.de", [(10, "mx.xn--bckerei-mller-bfb28a.de")])
    answer = await net_resolver.mx_hosts("Bäckerei-Müller.de")
    assert answer.domain == "xn--bckerei-mller-bfb28a.de"
    assert answer.hosts == (MxHost(10, "mx.xn--bckerei-mller-bfb28a.de"),)
    assert dns_zone.queries == [("xn--bckerei-mller-bfb28a.de", "MX")]


async def test_fc14_ideographic_full_stop(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_mx("例え.テスト", [(5, "mx.例え.テスト")])  # the zone stores A-labels too
    answer = await net_resolver.mx_hosts("例え。テスト")
    assert answer.domain == "xn--r8jz45g.xn--zckzah"
    assert answer.hosts == (MxHost(5, "mx.xn--r8jz45g.xn--zckzah"),)


async def test_malformed_a_label_is_invalid_domain(net_resolver: Resolver):
    with pytest.raises(InvalidDomain):
        await net_resolver.mx_hosts("xn--zz.com")


async def test_addresses_ipv4_first(dns_zone: LoopbackDns, net_resolver: Resolver):
    dns_zone.add_aaaa("mx.example.test", "::1")
    dns_zone.add_a("mx.example.test", "127.0.0.2")
    dns_zone.add_a("mx.example.test", "127.0.0.3")
    assert await net_resolver.addresses("mx.example.test") == ["127.0.0.2", "127.0.0.3", "::1"]
    assert await net_resolver.addresses("nothing.example.test") == []


async def test_addresses_raise_when_both_lookups_fail(dns_zone: LoopbackDns):
    dns_zone.fail("mx.broken.test", "servfail")
    with pytest.raises(DnsError):
        await Resolver([dns_zone.address], timeout=0.5).addresses("mx.broken.test")


async def test_tcp_listener_answers_too(dns_zone: LoopbackDns):
    import dns.asyncquery
    import dns.message

    dns_zone.add_a("tcp.example.test", "127.0.0.5")
    host, port = parse_server(dns_zone.address)
    query = dns.message.make_query("tcp.example.test", "A")
    response = await dns.asyncquery.tcp(query, host, port=port, timeout=2)
    assert [r.address for r in response.answer[0]] == ["127.0.0.5"]


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[::1]", ("::1", 53)),
    ],
)
def test_parse_server(entry: str, parsed: tuple[str, int]):
    assert parse_server(entry) == parsed


@pytest.mark.parametrize("entry", ["", "127.0.0.1:x", "127.0.0.1:0", "[::1]:99999"])
def test_parse_server_refuses_bad_entries(entry: str):
    with pytest.raises(ValueError):
        parse_server(entry)


async def test_answers_are_reused_within_their_ttl_and_nxdomain_never(
    dns_zone: LoopbackDns,
) -> None:
    """A burst of lookups at one company asks the DNS server once per name and type (issue 8
    §6: the single-lookup pass spent a sixth of its event loop on repeated queries); a name
    that did not exist is asked again, since it may be registered a moment later."""
    resolver = Resolver([dns_zone.address])
    dns_zone.add_mx("cached.test", [(10, "mx.cached.test")])
    dns_zone.add_a("mx.cached.test", "127.0.0.2")
    first = await asyncio.gather(*(resolver.mx_hosts("cached.test") for _ in range(8)))
    asked = len(dns_zone.queries)
    again = await resolver.mx_hosts("cached.test")
    assert len(dns_zone.queries) == asked
    assert {a.hosts for a in first} == {again.hosts}
    assert again.hosts[0].host == "mx.cached.test"
    assert await resolver.name_exists("later.test") is False
    dns_zone.add_a("later.test", "127.0.0.3")
    assert await resolver.name_exists("later.test") is True
