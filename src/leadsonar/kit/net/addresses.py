"""The SSRF guard: may LeadSonar open a connection to this IP address?

User-supplied hosts (a company's website, its MX hosts) must never make the server reach private,
loopback, link-local or otherwise non-global addresses unless the operator allowed them through
``LEADSONAR_ALLOWED_PRIVATE_NETWORKS`` (DESIGN.md §5). Callers resolve a name once, check every
address with :func:`ensure_allowed`, and connect to the checked address, never to the name again
(a second lookup could answer differently: DNS rebinding).

The rule is an allow-list of *global unicast* space: an address is refused when it lies in an
IANA special-purpose block (RFC 6890 registries: private, shared ``100.64.0.0/10``,
documentation, benchmarking, ``0.0.0.0/8``, ``240.0.0.0/4``, ``fc00::/7``, site-local, …; listed
here so the answer does not depend on the Python release), when Python's :mod:`ipaddress` does
not call it global, or when it is multicast, reserved, loopback, link-local or unspecified.
IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``
per RFC 6052, 6to4 ``2002::/16`` per RFC 3056) are judged by the IPv4 address inside them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from leadsonar.exceptions import AddressNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")

# IANA special-purpose blocks (RFC 6890 registries) refused whatever the Python version's
# ``is_global`` says: its tables differ between patch releases (e.g. 192.0.0.0/24).
_SPECIAL_PURPOSE: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


def _parse(ip: str | IPAddress) -> IPAddress | None:
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    try:
        return ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is a transition form."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _in_any(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _is_global_unicast(address: IPAddress) -> bool:
    if _in_any(address, _SPECIAL_PURPOSE):
        return False
    if (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    ):
        return False
    return address.is_global


def is_allowed(ip: str | IPAddress, allowed: Sequence[IPNetwork] = ()) -> bool:
    """Whether a connection to ``ip`` is allowed.

    Args:
        ip: an IPv4 or IPv6 address, or its text form (``"192.0.2.1"``, ``"::1"``,
            ``"[::1]"``, ``"fe80::1%eth0"``).
        allowed: networks the operator allowed although they are not global
            (``Settings.allowed_private_networks``), e.g. ``[IPv4Network("127.0.0.0/8")]``.

    Returns:
        ``True`` for a global unicast address or one inside ``allowed``; ``False`` for anything
        else, including text that is not an IP address at all (the guard fails closed).
        An IPv6 address carrying an IPv4 address (IPv4-mapped, NAT64, 6to4) is allowed exactly
        when that IPv4 address is.
    """
    address = _parse(ip)
    if address is None:
        return False
    if _in_any(address, allowed):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return is_allowed(inner, allowed)
    return _is_global_unicast(address)


def ensure_allowed(ip: str | IPAddress, allowed: Sequence[IPNetwork] = ()) -> None:
    """Raise unless a connection to ``ip`` is allowed (see :func:`is_allowed`).

    Raises:
        AddressNotAllowed: ``ip`` is not an IP address, or it is not global unicast and not in
            ``allowed``. The message is one sentence naming the address; nothing was connected.
    """
    if _parse(ip) is None:
        raise AddressNotAllowed(f"{str(ip)!r} is not an IP address, so no connection was made.")
    if not is_allowed(ip, allowed):
        raise AddressNotAllowed(
            f"The address {ip} is private, loopback, link-local or otherwise not public, and "
            "LEADSONAR_ALLOWED_PRIVATE_NETWORKS does not allow it, so no connection was made."
        )
