"""The resolver self-check (issue 12 §6): a resolver that answers NXDOMAIN for everything must
not turn into "invalid" addresses and cached "not found" answers."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from leadsonar.domains.models import CompanyDomain
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.ports import free_port
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

PERSON = {"firstName": "Ada", "lastName": "Lovelace", "website": "acme.test"}


async def test_the_check_tells_a_working_resolver_from_a_broken_or_absent_one() -> None:
    with LoopbackDns() as good, LoopbackDns(broken=True) as nxdomain_everything:
        assert (await ResolverCheck(Resolver([good.address]), ".").check()).ok
        named = ResolverCheck(Resolver([good.address]), "must-exist.test")
        assert not (await named.check()).ok  # the configured name is unknown to it
        good.add_name("must-exist.test")
        assert (await named.check(force=True)).ok
        broken = await ResolverCheck(Resolver([nxdomain_everything.address]), ".").check()
        assert not broken.ok and "does not exist" in broken.reason
    silent = ResolverCheck(Resolver([f"127.0.0.1:{free_port()}"], timeout=0.5), ".")
    status = await silent.check()
    assert not status.ok and status.reason


async def test_broken_dns_warns_at_start_and_answers_unknown_without_caching(
    smtp_world: SmtpWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with LoopbackDns() as dns:
        dns.add_mx("acme.test", [(10, "mx.acme.test")])
        dns.add_a("mx.acme.test", "127.0.0.2")
        await smtp_world.serve("127.0.0.2", mailboxes={"ada.lovelace@acme.test"})
        dns.break_resolver()  # now NXDOMAIN for everything, root included
        settings = make_net_settings(
            dns,
            smtp_world,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'dns.db'}",
            rate_limit="1000/second",
            providers="email=known,smtp;phone=known",
        )
        with caplog.at_level(logging.WARNING, logger="leadsonar.app"):
            async with LiveServer(settings) as server:
                assert any("DNS IS NOT WORKING" in r.getMessage() for r in caplog.records)
                key = await server.create_account("dns", credits=10)
                async with httpx.AsyncClient(
                    base_url=server.url, headers={"X-API-Key": key}, timeout=30
                ) as client:
                    ready = await client.get("/readyz")
                    assert ready.status_code == 503
                    assert "does not exist" in ready.json()["checks"]["dns"]

                    verify = (
                        await client.post(
                            "/api/v1/verify-email", json={"email": "ada.lovelace@acme.test"}
                        )
                    ).json()
                    assert verify["status"] == "unknown", verify  # never "invalid"
                    assert "DNS is not working" in verify["reason"]

                    found = (await client.post("/api/v1/find-email", json=PERSON)).json()
                    assert found["email"] is None
                    assert "DNS is not working" in found["reason"]
                    # a company name cannot be resolved either: the reason says why, not that
                    # the name is unknown
                    by_name = (
                        await client.post(
                            "/api/v1/find-phone",
                            json={"firstName": "Ada", "lastName": "Lovelace", "company": "Acme"},
                        )
                    ).json()
                    assert by_name["phone"] is None
                    assert "DNS is not working" in by_name["reason"], by_name
                    # ... and the failed resolution is not remembered as "unresolved" for a day
                    async with server.services.db.session() as session:
                        remembered = (await session.scalars(select(CompanyDomain))).all()
                    assert remembered == []

                    # DNS comes back: the same lookup is run again, not served from a cache.
                    dns.break_resolver(False)
                    await server.services.dns_check.check(force=True)  # type: ignore[union-attr]
                    again = (await client.post("/api/v1/find-email", json=PERSON)).json()
                    assert again["email"] == "ada.lovelace@acme.test", again
                    assert again["waterfall"]["cached"] is False
                    assert (await client.get("/readyz")).status_code == 200
                    valid = (
                        await client.post(
                            "/api/v1/verify-email", json={"email": "nobody@gone.test"}
                        )
                    ).json()
                    # with a working resolver NXDOMAIN is believed
                    assert valid["status"] == "invalid", valid


async def test_a_guess_made_while_no_dns_server_answers_is_not_an_answer(
    smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    """With nobody answering DNS (timeouts, not NXDOMAIN) the prober can still spell the most
    likely address, checked against nothing: the answer is none, with the DNS reason (it was
    a `low` guess with "the mail hosts could not be looked up")."""
    with LoopbackDns() as dns:
        settings = make_net_settings(
            dns,
            smtp_world,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'silent.db'}",
            dns_servers=[f"127.0.0.1:{free_port()}"],  # nothing listens there
            dns_timeout=0.5,
            rate_limit="1000/second",
        )
        async with LiveServer(settings) as server:
            key = await server.create_account("silent", credits=10)
            async with httpx.AsyncClient(
                base_url=server.url, headers={"X-API-Key": key}, timeout=30
            ) as client:
                found = (await client.post("/api/v1/find-email", json=PERSON)).json()
    assert found["email"] is None, found
    assert found["confidence"] is None
    assert "DNS is not working" in found["reason"], found
