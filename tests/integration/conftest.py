"""Shared integration fixtures: a loopback DNS zone, loopback SMTP servers, settings for both.

Everything listens on 127.0.0.0/8 only; the resolver never asks the system's DNS servers.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from leadsonar.config import Settings
from leadsonar.kit.net.dns import Resolver
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.smtpserver import SmtpWorld

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@pytest.fixture
def dns_zone() -> Iterator[LoopbackDns]:
    """A started loopback DNS server with an empty zone (every name NXDOMAIN)."""
    with LoopbackDns() as server:
        yield server


@pytest.fixture
async def smtp_world() -> AsyncIterator[SmtpWorld]:
    """A port free on 127.0.0.2-19; start servers with ``await smtp_world.serve(ip, ...)``."""
    async with SmtpWorld() as world:
        yield world


def make_net_settings(dns: LoopbackDns, world: SmtpWorld, **overrides: object) -> Settings:
    """Settings that point DNS at ``dns``, SMTP at ``world.port``, allow loopback, and keep
    every timeout short (seconds)."""
    values: dict[str, object] = {
        "dns_servers": [dns.address],
        "dns_timeout": 2.0,
        "allowed_private_networks": [LOOPBACK],
        "smtp_helo_name": "probe.leadsonar.test",
        "smtp_mail_from": "verify@leadsonar.test",
        "smtp_port": world.port,
        "smtp_timeout": 2.0,
        "smtp_connect_timeout": 2.0,
        "smtp_banner_timeout": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def net_settings_with(dns_zone: LoopbackDns, smtp_world: SmtpWorld) -> Callable[..., Settings]:
    """``net_settings_with(**overrides)``: :func:`make_net_settings` for the ``dns_zone`` and
    ``smtp_world`` fixtures, e.g. ``net_settings_with(allowed_private_networks=[])``."""
    return functools.partial(make_net_settings, dns_zone, smtp_world)


@pytest.fixture
def net_settings(net_settings_with: Callable[..., Settings]) -> Settings:
    """:func:`make_net_settings` for the ``dns_zone`` and ``smtp_world`` fixtures."""
    return net_settings_with()


@pytest.fixture
def net_resolver(net_settings: Settings) -> Resolver:
    """The resolver the app would build from ``net_settings``."""
    return Resolver.from_settings(net_settings)
