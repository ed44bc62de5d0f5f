"""The prober through a SOCKS5 proxy (issue 12 §8): a loopback SOCKS5 server in front of the
loopback mail servers; an unreachable, refusing or forbidden proxy is a reason, never invalid."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.ports import free_port
from leadsonar.testing.smtpserver import SmtpWorld
from leadsonar.testing.socks5 import Socks5Proxy
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

ADDRESS = "ada.lovelace@acme.test"


def _world(dns: LoopbackDns) -> None:
    dns.add_mx("acme.test", [(10, "mx.acme.test")])
    dns.add_a("mx.acme.test", "127.0.0.2")


async def _verify(
    dns: LoopbackDns, world: SmtpWorld, tmp_path: Path, **overrides: Any
) -> dict[str, Any]:
    settings = make_net_settings(
        dns,
        world,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'proxy.db'}",
        rate_limit="1000/second",
        **overrides,
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("proxy", credits=5)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-API-Key": key}, timeout=30
        ) as client:
            response = await client.post("/api/v1/verify-email", json={"email": ADDRESS})
            assert response.status_code == 200, response.text
            return dict(response.json())


async def test_every_smtp_connection_goes_through_the_proxy(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    _world(dns_zone)
    mail = await smtp_world.serve("127.0.0.2", mailboxes={ADDRESS})
    async with Socks5Proxy(username="probe", password="s3cr3t pass") as proxy:
        answer = await _verify(
            dns_zone, smtp_world, tmp_path, smtp_proxy=proxy.url.replace(" ", "%20")
        )
    assert answer["status"] == "valid", answer
    assert mail.connections >= 1
    assert proxy.connects == [("127.0.0.2", smtp_world.port)] * mail.connections


async def test_a_proxy_refusing_the_credentials_is_a_reason_not_invalid(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    _world(dns_zone)
    mail = await smtp_world.serve("127.0.0.2", mailboxes=set())  # would reject the address
    async with Socks5Proxy(username="probe", password="right") as proxy:
        wrong = f"socks5://probe:wrong@127.0.0.1:{proxy.port}"
        answer = await _verify(dns_zone, smtp_world, tmp_path, smtp_proxy=wrong)
    assert answer["status"] == "unknown", answer
    assert "SMTP proxy socks5://127.0.0.1" in answer["reason"]
    assert "wrong" not in answer["reason"]  # the password is never repeated
    assert proxy.refused >= 1 and proxy.connects == []
    assert mail.connections == 0


async def test_an_unreachable_proxy_warns_at_start_and_is_a_reason(
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _world(dns_zone)
    await smtp_world.serve("127.0.0.2", mailboxes=set())
    with caplog.at_level(logging.WARNING, logger="leadsonar.app"):
        answer = await _verify(
            dns_zone, smtp_world, tmp_path, smtp_proxy=f"socks5://127.0.0.1:{free_port()}"
        )
    assert any("SMTP PROXY UNREACHABLE" in r.getMessage() for r in caplog.records)
    assert answer["status"] == "unknown", answer
    assert "could not be reached" in answer["reason"]


async def test_the_proxy_address_obeys_the_ssrf_guard(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    _world(dns_zone)
    mail = await smtp_world.serve("127.0.0.2", mailboxes={ADDRESS})
    async with Socks5Proxy() as proxy:  # on 127.0.0.1, outside the allowed network below
        answer = await _verify(
            dns_zone,
            smtp_world,
            tmp_path,
            smtp_proxy=proxy.url,
            allowed_private_networks=[ipaddress.ip_network("127.0.0.2/32")],
        )
    assert answer["status"] == "unknown", answer
    assert "not allowed" in answer["reason"]
    assert proxy.connects == [] and mail.connections == 0


@pytest.mark.parametrize(
    "value",
    ["http://proxy:1080", "socks5://", "socks5://host", "socks5://u:pw@host:99999", "socks4://h:1"],
)
async def test_a_malformed_proxy_setting_is_refused_without_echoing_the_password(
    value: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(smtp_proxy=value)
    assert "socks5://[user:pass@]host:port" in str(caught.value)
    assert ":pw@" not in str(caught.value)
