"""The SSRF guard (DESIGN.md §5): only global unicast addresses unless the operator allows more."""

from __future__ import annotations

import ipaddress

import pytest

from leadsonar.exceptions import AddressNotAllowed
from leadsonar.kit.net.addresses import ensure_allowed, is_allowed

REFUSED = [
    "127.0.0.1",  # loopback
    "127.1.2.3",
    "10.0.0.1",  # RFC 1918
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # shared address space (RFC 6598)
    "0.0.0.0",  # unspecified
    "0.1.2.3",  # "this network"
    "192.0.2.1",  # TEST-NET-1 documentation
    "198.51.100.7",  # TEST-NET-2
    "203.0.113.9",  # TEST-NET-3
    "198.18.0.1",  # benchmarking
    "192.0.0.8",  # IETF protocol assignments
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "::1",  # loopback
    "::",  # unspecified
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "::7f00:1",  # IPv4-compatible (deprecated)
    "fe80::1",  # link-local
    "fe80::1%eth0",
    "fc00::1",  # unique local
    "fd12:3456::1",
    "fec0::1",  # site-local (deprecated)
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "100::1",  # discard-only
    "[::1]",
    "not-an-ip",
    "",
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",  # IPv4-mapped global
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize("ip", REFUSED)
def test_non_global_addresses_are_refused(ip: str) -> None:
    assert not is_allowed(ip, [])
    with pytest.raises(AddressNotAllowed) as raised:
        ensure_allowed(ip, [])
    assert raised.value.status_code == 400
    assert "no connection was made" in raised.value.message


@pytest.mark.parametrize("ip", ALLOWED)
def test_global_unicast_addresses_are_allowed(ip: str) -> None:
    assert is_allowed(ip, [])
    ensure_allowed(ip, [])


def test_ip_objects_are_accepted() -> None:
    assert is_allowed(ipaddress.ip_address("8.8.8.8"), [])
    assert not is_allowed(ipaddress.ip_address("10.1.1.1"), [])


def test_allowed_networks_override_the_guard() -> None:
    allowed = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("fd00::/8")]
    assert is_allowed("127.0.0.2", allowed)
    assert is_allowed("::ffff:127.0.0.1", allowed)  # the mapped form of an allowed address
    assert is_allowed("fd00::25", allowed)
    ensure_allowed("127.0.0.9", allowed)
    # only what is listed: other private space stays refused
    assert not is_allowed("10.0.0.1", allowed)
    assert not is_allowed("169.254.169.254", allowed)
    assert not is_allowed("::1", allowed)


def test_the_message_names_the_address() -> None:
    with pytest.raises(AddressNotAllowed, match=r"169\.254\.169\.254"):
        ensure_allowed("169.254.169.254", [])
