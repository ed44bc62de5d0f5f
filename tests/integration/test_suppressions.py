"""Suppression and erasure (issue 12 §5): a suppressed address or domain is never returned and
never probed, in any account; erasure removes every stored copy and suppresses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.suppressions import service
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import LoopbackSmtp, SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

ADA = {"firstName": "Ada", "lastName": "Lovelace", "website": "acme.test"}
ADDRESS = "ada.lovelace@acme.test"


@pytest.fixture
async def world(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, LoopbackSmtp, httpx.AsyncClient, httpx.AsyncClient]]:
    dns_zone.add_mx("acme.test", [(10, "mx.acme.test")])
    dns_zone.add_a("mx.acme.test", "127.0.0.2")
    mail = await smtp_world.serve("127.0.0.2", mailboxes={ADDRESS, "bo.z@acme.test"})
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}",
        rate_limit="1000/second",
        providers="email=known,smtp;phone=known",
        lookup_cache_ttl=0,
    )
    async with LiveServer(settings) as server:
        alice = await server.create_account("alice", credits=50)
        bob = await server.create_account("bob", credits=50)
        async with (
            httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": alice}, timeout=30) as a,
            httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": bob}, timeout=30) as b,
        ):
            yield server, mail, a, b


async def _find(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/find-email", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_suppressed_address_is_never_returned_nor_probed(
    world: tuple[LiveServer, LoopbackSmtp, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    _, mail, alice, bob = world
    added = await alice.post("/api/v1/suppressions", json={"email": "Ada.Lovelace@ACME.test"})
    assert added.status_code == 201, added.text
    assert added.json()["email"] == ADDRESS and added.json()["kind"] == "email"

    for client in (alice, bob):  # installation-wide
        answer = await _find(client, ADA)
        assert answer["email"] is None and answer["reason"] == "suppressed", answer
    assert ADDRESS not in mail.rcpts  # never asked about

    verify = (await bob.post("/api/v1/verify-email", json={"email": ADDRESS})).json()
    assert verify["status"] == "unknown" and verify["reason"] == "suppressed"
    assert verify["credits_used"] == 0
    assert ADDRESS not in mail.rcpts

    # Each account sees and lifts only its own entries.
    assert [
        s["email"] for s in (await alice.get("/api/v1/suppressions")).json()["suppressions"]
    ] == [ADDRESS]
    assert (await bob.get("/api/v1/suppressions")).json() == {"suppressions": []}
    assert (await bob.delete("/api/v1/suppressions", params={"email": ADDRESS})).status_code == 404
    assert (
        await alice.delete("/api/v1/suppressions", params={"email": ADDRESS})
    ).status_code == 204
    assert (await _find(alice, ADA))["email"] == ADDRESS


async def test_a_suppressed_domain_is_not_looked_up_at_all(
    world: tuple[LiveServer, LoopbackSmtp, httpx.AsyncClient, httpx.AsyncClient],
    dns_zone: LoopbackDns,
) -> None:
    _, mail, alice, _ = world
    assert (
        await alice.post("/api/v1/suppressions", json={"domain": "ACME.test"})
    ).status_code == 201
    asked_before = len(dns_zone.queries)
    answer = await _find(alice, {**ADA, "website": "https://www.acme.test/team"})
    assert answer["email"] is None and answer["reason"] == "suppressed"
    sub = await _find(alice, {**ADA, "website": "eu.acme.test"})  # subdomains too
    assert sub["reason"] == "suppressed"
    assert mail.connections == 0
    assert not [q for q in dns_zone.queries[asked_before:] if "acme.test" in q[0]]


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "a@b.test", "domain": "b.test"}, {"email": "not an address"}, {"domain": "x"}],
)
async def test_bad_suppressions_are_400(
    world: tuple[LiveServer, LoopbackSmtp, httpx.AsyncClient, httpx.AsyncClient],
    body: dict[str, str],
) -> None:
    response = await world[2].post("/api/v1/suppressions", json=body)
    assert response.status_code == 400 and set(response.json()) == {"error"}


async def test_erasure_removes_every_copy_and_suppresses(
    world: tuple[LiveServer, LoopbackSmtp, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    server, mail, alice, bob = world
    async with server.services.db.session() as session:
        row = {
            "firstname": "Bo",
            "lastname": "Z",
            "company": "",
            "website": "acme.test",
            "email": "bo.z@acme.test",
            "phone": "",
        }
        await import_rows(session, [(2, row)], ImportReport(), await server.account_id("alice"))
    job = await alice.post(
        "/api/v1/enrich",
        json={"contacts": [{"firstName": "Bo", "lastName": "Z", "website": "acme.test"}]},
    )
    job_id = job.json()["jobId"]
    for _ in range(100):
        status = (await alice.get(f"/api/v1/enrich/{job_id}")).json()
        if status["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert status["results"][0]["email"] == "bo.z@acme.test"

    erased = await bob.delete("/api/v1/contacts", params={"email": "BO.Z@acme.test"})
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["email"] == "bo.z@acme.test" and body["suppressed"] is True
    assert body["erased"]["contacts"] == 1 and body["erased"]["jobResults"] == 1

    after = (await alice.get(f"/api/v1/enrich/{job_id}")).json()
    assert after["results"][0]["email"] is None
    answer = await _find(alice, {"firstName": "Bo", "lastName": "Z", "website": "acme.test"})
    assert answer["email"] is None and answer["reason"] == "suppressed"
    rcpts_before = list(mail.rcpts)
    verify = (await alice.post("/api/v1/verify-email", json={"email": "bo.z@acme.test"})).json()
    assert verify["reason"] == "suppressed" and mail.rcpts == rcpts_before


async def test_a_check_while_a_suppression_is_being_written_is_not_remembered_past_its_commit(
    world: tuple[LiveServer, LoopbackSmtp, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    """The per-process memo of domain answers is dropped when the change commits, not when it
    is flushed: a check between the two reads the old state and must not keep it."""
    server, _, _, _ = world
    checks = server.services.lookup.suppressions
    assert checks is not None
    assert not await checks.suppressed(domain="later.test")
    async with server.services.db.write_session() as session:
        await service.add(session, 0, "domain", "later.test", "test")
        # not committed yet: a check now sees (and memoises) the old state
        assert not await checks.suppressed(domain="later.test")
    assert await checks.suppressed(domain="later.test")
    async with server.services.db.write_session() as session:
        assert await service.remove(session, 0, "domain", "later.test")
    assert not await checks.suppressed(domain="later.test")
