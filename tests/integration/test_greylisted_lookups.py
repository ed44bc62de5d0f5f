"""Issue 8 §5: greylisting in single lookups, over HTTP against real loopback DNS and SMTP.

A greylisting server (FC-22) refuses each new (client, sender, recipient) triple until it comes
back after a delay. A single lookup that cannot wait answers honestly (``greylisted``, with the
retry time), the prober asks the same addresses again in the background after the delay, and
the next lookup gets the verified answer; the domain's pattern is learned on the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.providers.builtin.smtp import SmtpProber
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio


class _App:
    """The app on the loopback world with ``overrides``; ``prober`` is its ``smtp`` provider."""

    def __init__(self, dns: LoopbackDns, world: SmtpWorld, db: Path, **overrides: Any) -> None:
        values: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{db}",
            "rate_limit": "1000/second",
            "providers": "email=known,smtp;phone=known",
            "smtp_greylist_delay": 120.0,  # a default the servers' own hints must override
            "lookup_deadline": 5.0,
            "provider_timeout": 5.0,
        }
        self.server = LiveServer(make_net_settings(dns, world, **(values | overrides)))

    async def __aenter__(self) -> _App:
        await self.server.__aenter__()
        key = await self.server.create_account("grey", credits=100)
        self.client = httpx.AsyncClient(
            base_url=self.server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.server.__aexit__(None, None, None)

    @property
    def prober(self) -> SmtpProber:
        prober = self.server.services.registry.providers["smtp"]
        assert isinstance(prober, SmtpProber)
        return prober

    async def find(self, first: str, last: str, domain: str) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/find-email", json={"firstName": first, "lastName": last, "website": domain}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
async def grey(dns_zone: LoopbackDns, smtp_world: SmtpWorld) -> AsyncIterator[Any]:
    dns_zone.add_mx("grey.test", [(10, "mx.grey.test")])
    dns_zone.add_a("mx.grey.test", "127.0.0.2")
    # flast, which the global order does not try first; "retry in 1 s" in every 450 reply
    server = await smtp_world.serve(
        "127.0.0.2",
        mailboxes={"lberg@grey.test", "ohaddad@grey.test"},
        greylist=True,
        greylist_delay=1.0,
    )
    yield server


async def test_a_greylisted_lookup_is_honest_then_learned_in_the_background(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, grey: Any, tmp_path: Path
) -> None:
    async with _App(dns_zone, smtp_world, tmp_path / "a.db") as app:
        first = await app.find("Lena", "Berg", "grey.test")
        assert first["confidence"] == "low"
        assert first["verification"] == "greylisted"
        # the server's own hint ("retry in 1 s"), not the configured 120 s
        assert "greylisting" in first["reason"] and "1.5 s" in first["reason"]
        assert app.prober.reprober.pending == 1
        await app.prober.reprober.wait()
        # the same triples were asked again after the delay: the server let them through
        assert grey.rcpts.count("lberg@grey.test") == 2

        again = await app.find("Lena", "Berg", "grey.test")
        assert (again["email"], again["confidence"]) == ("lberg@grey.test", "high")
        assert again["verification"] == "valid"

        # the domain's pattern was learned: the next person's first guess is flast
        other = await app.find("Omar", "Haddad", "grey.test")
    assert other["email"] == "ohaddad@grey.test"
    assert other["verification"] == "greylisted"


async def test_a_retry_hint_within_the_deadline_is_waited_for(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_mx("shortgrey.test", [(10, "mx.shortgrey.test")])
    dns_zone.add_a("mx.shortgrey.test", "127.0.0.3")
    server = await smtp_world.serve(
        "127.0.0.3",
        mailboxes={"alex.johnson@shortgrey.test"},
        greylist=True,
        greylist_delay=0.3,
    )
    async with _App(dns_zone, smtp_world, tmp_path / "b.db", lookup_deadline=20.0) as app:
        body = await app.find("Alex", "Johnson", "shortgrey.test")
        assert app.prober.reprober.pending == 0
    assert (body["email"], body["confidence"]) == ("alex.johnson@shortgrey.test", "high")
    assert server.rcpts.count("alex.johnson@shortgrey.test") == 2


async def test_pending_re_probes_end_cleanly_at_shutdown(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_mx("slowgrey.test", [(10, "mx.slowgrey.test")])
    dns_zone.add_a("mx.slowgrey.test", "127.0.0.4")
    server = await smtp_world.serve(
        "127.0.0.4", mailboxes={"alex.johnson@slowgrey.test"}, greylist=True, greylist_delay=300
    )
    async with _App(dns_zone, smtp_world, tmp_path / "c.db") as app:
        body = await app.find("Alex", "Johnson", "slowgrey.test")
        assert body["verification"] == "greylisted"
        assert "300.5 s" in body["reason"]
        reprober = app.prober.reprober
        assert reprober.pending == 1
        tasks = list(reprober._tasks.values())
    # the app closed: the waiting re-probe was cancelled, not left running
    assert reprober.pending == 0
    assert all(task.cancelled() for task in tasks)
    rcpts = server.rcpt_count
    await asyncio.sleep(0.2)
    assert server.rcpt_count == rcpts


async def test_a_re_probe_still_greylisted_tries_once_more(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    """A server that says "retry in 1 s" but lets triples through only after 2.5 s: the first
    background re-probe is greylisted again, the second one verifies."""
    dns_zone.add_mx("understated.test", [(10, "mx.understated.test")])
    dns_zone.add_a("mx.understated.test", "127.0.0.5")
    server = await smtp_world.serve(
        "127.0.0.5",
        mailboxes={"alex.johnson@understated.test"},
        greylist=True,
        greylist_delay=2.5,
        greylist_hint=1.0,
    )
    async with _App(dns_zone, smtp_world, tmp_path / "d.db") as app:
        first = await app.find("Alex", "Johnson", "understated.test")
        assert first["verification"] == "greylisted"
        await app.prober.reprober.wait()
        again = await app.find("Alex", "Johnson", "understated.test")
    assert (again["email"], again["confidence"]) == ("alex.johnson@understated.test", "high")
    assert server.rcpts.count("alex.johnson@understated.test") == 3
