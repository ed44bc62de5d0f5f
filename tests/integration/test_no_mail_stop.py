"""An e-mail lookup at a domain that takes no mail (a null MX, RFC 7505) ends as soon as the
prober has seen the null MX: no address found there could be kept (the waterfall's screening
drops it), so the lookup does not wait for the crawl of a slow website (nor asks a paid
provider: tests/unit/test_provider_cascade.py). Real loopback DNS, SMTP and HTTP servers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from leadsonar.testing.webserver import LoopbackWeb, Response
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

SITE_IP = "127.0.0.24"
TEAM = (
    "<html><head><title>Nomail Industries</title></head><body><h1>Our team</h1>"
    "<div class='person'><h3>Alex Johnson</h3><a href='mailto:alex.johnson@nomail.test'>"
    "alex.johnson@nomail.test</a></div></body></html>"
)


async def test_a_null_mx_domain_does_not_wait_for_its_slow_website(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_null_mx("nomail.test")
    dns_zone.add_a("nomail.test", SITE_IP)
    dns_zone.add_a("www.nomail.test", SITE_IP)
    async with LoopbackWeb() as web:
        await web.listen(SITE_IP)
        # the team page publishes the person's address, but the site takes 20 s to answer
        web.site("nomail.test", {"/": Response(TEAM, delay=20.0), "/team": TEAM})
        settings = make_net_settings(
            dns_zone,
            smtp_world,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'nomail.db'}",
            crawl_scheme="http",
            crawl_port=web.port,
            crawl_delay=0.0,
            crawl_timeout=30.0,
            rate_limit="1000/second",
        )
        async with LiveServer(settings) as server:
            key = await server.create_account("nomail", credits=10)
            async with httpx.AsyncClient(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as client:
                response = await client.post(
                    "/api/v1/find-email",
                    json={"firstName": "Alex", "lastName": "Johnson", "website": "nomail.test"},
                )
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["email"] is None
            assert "null MX" in (body["reason"] or ""), body["reason"]
            # the prober saw the null MX; the crawl still waiting on the slow home page was
            # not waited for (it goes on in the background for phone lookups)
            assert body["waterfall"]["tried"] == ["known", "smtp"], body["waterfall"]
            # the crawl had started and goes on in the background: its first request may reach
            # the site just after the answer did (the prober can prove the null MX first)
            for _ in range(100):
                if web.paths("nomail.test"):
                    break
                await asyncio.sleep(0.05)
            assert web.paths("nomail.test")
