"""Issue 8 §6: the free providers of the default email order run at once, over HTTP against
real loopback DNS, SMTP and web servers: the mailbox prober's verified answer does not wait
for a slow website crawl, which goes on in the background for the next lookups."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from leadsonar.testing.webserver import LoopbackWeb, Response
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio


async def test_a_verified_mailbox_does_not_wait_for_a_slow_crawl(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_mx("slowsite.test", [(10, "mx.slowsite.test")])
    dns_zone.add_a("mx.slowsite.test", "127.0.0.7")
    dns_zone.add_a("slowsite.test", "127.0.0.32")
    await smtp_world.serve("127.0.0.7", mailboxes={"alex.johnson@slowsite.test"})
    async with LoopbackWeb() as web:
        await web.listen("127.0.0.32")
        # The home page takes longer than the provider budget: a sequential waterfall would
        # record the website as timed out before it ever asked the mail server.
        web.site("slowsite.test", {"/": Response("<html><body>Hello</body></html>", delay=30)})
        settings = make_net_settings(
            dns_zone,
            smtp_world,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}",
            rate_limit="1000/second",
            crawl_scheme="http",
            crawl_port=web.port,
            crawl_timeout=60.0,
            provider_timeout=20.0,
            lookup_deadline=20.0,
        )
        async with LiveServer(settings) as server:
            key = await server.create_account("slow", credits=10)
            async with httpx.AsyncClient(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as client:
                response = await client.post(
                    "/api/v1/find-email",
                    json={"firstName": "Alex", "lastName": "Johnson", "website": "slowsite.test"},
                )
                body = response.json()
                providers = (await client.get("/api/v1/providers")).json()["providers"]
        assert web.paths("slowsite.test")  # the crawl had started
    assert (body["email"], body["confidence"]) == ("alex.johnson@slowsite.test", "high")
    assert body["waterfall"]["tried"] == ["known", "smtp"]  # the website call was cut short
    assert body["waterfall"]["answered"] == ["smtp"]
    website = next(p for p in providers if p["name"] == "website")
    assert website["stats"]["timeouts"] == 0  # cancelled once answered, never timed out
