"""Issue 11 §5: webhooks — signed delivery to a loopback receiver, retries with backoff, one in
flight per job, the delivery log, and the SSRF address rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from leadsonar.accounts.service import get_account_by_name
from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.hookreceiver import HookReceiver
from leadsonar.testing.live import LiveServer
from leadsonar.webhooks.service import secret_for
from leadsonar.webhooks.signing import verify
from tests.integration.test_jobs_resource import KNOWN, MIKE, SARAH, wait_done

pytestmark = pytest.mark.asyncio


async def _secret(server: LiveServer, account: str) -> str:
    async with server.services.db.write_session() as session:
        row = await get_account_by_name(session, account)
        return await secret_for(session, row.id)


async def _deliveries(client: httpx.AsyncClient, job_id: str, status: str) -> dict[str, object]:
    for _ in range(100):
        log = (await client.get(f"/api/v1/enrich/{job_id}/deliveries")).json()
        if log["webhook"] and log["webhook"]["status"] == status:
            return dict(log)
        await asyncio.sleep(0.1)
    raise AssertionError(f"delivery never became {status}: {log}")


@pytest.fixture
async def live(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    settings = make_settings(
        database_url=database_url,
        providers="email=known;phone=known",
        webhook_retry_delay=0.3,
        webhook_timeout=1.0,
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("hooks", credits=50)
        owner = await server.account_id("hooks")
        async with server.services.db.session() as session:
            await import_rows(session, list(enumerate(KNOWN, start=2)), ImportReport(), owner)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            yield server, client


async def test_a_finished_job_is_posted_signed_and_retried_until_accepted(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    async with HookReceiver(statuses=[500, 503, 200]) as hook:
        accepted = await client.post(
            "/api/v1/enrich", json={"contacts": [SARAH, MIKE], "webhookUrl": hook.url}
        )
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["jobId"]
        calls = [await hook.next_call(timeout=20) for _ in range(3)]
        log = await _deliveries(client, job_id, "delivered")
        await asyncio.sleep(1.0)  # nothing more arrives once accepted
        assert len(hook.calls) == 3
        final = (await client.get(f"/api/v1/enrich/{job_id}")).json()
    secret = await _secret(server, "hooks")
    for call in calls:
        assert call.method == "POST" and call.path == "/hooks/leadsonar"
        assert call.headers["content-type"] == "application/json"
        assert verify(secret, call.body, call.headers["leadsonar-signature"])
        assert not verify(secret, call.body + b" ", call.headers["leadsonar-signature"])
        assert json.loads(call.body) == final  # the same JSON as GET /enrich/{jobId}
    assert final["status"] == "completed" and final["results"][0]["email"] == "sarah@figma.com"
    assert log["webhook"]["attempts"] == 3  # type: ignore[index]
    assert [a["statusCode"] for a in log["attempts"]] == [500, 503, 200]  # type: ignore[union-attr]
    assert log["attempts"][0]["error"] == "The receiver answered HTTP 500."  # type: ignore[index]


async def test_a_cancelled_job_notifies_too(live: tuple[LiveServer, httpx.AsyncClient]) -> None:
    server, client = live
    await server.services.runner.stop()
    async with HookReceiver() as hook:
        job_id = (
            await client.post("/api/v1/enrich", json={"contacts": [SARAH], "webhookUrl": hook.url})
        ).json()["jobId"]
        await client.post(f"/api/v1/enrich/{job_id}/cancel")
        call = await hook.next_call(timeout=20)
    assert json.loads(call.body)["status"] == "cancelled"


async def test_a_receiver_that_does_not_answer_in_time_is_retried(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    async with HookReceiver(statuses=[200], delay=2.0) as hook:  # timeout is 1 s
        job_id = (
            await client.post("/api/v1/enrich", json={"contacts": [MIKE], "webhookUrl": hook.url})
        ).json()["jobId"]
        for _ in range(100):
            log = (await client.get(f"/api/v1/enrich/{job_id}/deliveries")).json()
            if log["attempts"]:
                break
            await asyncio.sleep(0.1)
        hook.delay = 0
        log = await _deliveries(client, job_id, "delivered")
    assert "No answer within 1 seconds" in log["attempts"][0]["error"]  # type: ignore[index]
    assert log["attempts"][-1]["statusCode"] == 200  # type: ignore[index]


async def test_a_job_without_webhook_has_an_empty_log_and_others_see_nothing(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    job_id = (await client.post("/api/v1/enrich", json={"contacts": [MIKE]})).json()["jobId"]
    await wait_done(client, job_id)
    log = (await client.get(f"/api/v1/enrich/{job_id}/deliveries")).json()
    assert log == {"jobId": job_id, "webhook": None, "attempts": []}
    other = await server.create_account("peeker")
    peek = await client.get(
        f"/api/v1/enrich/{job_id}/deliveries", headers={"Authorization": f"Bearer {other}"}
    )
    assert peek.status_code == 404


# -- address rules (SSRF) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
        "ftp://hooks.acmecorp.com/",
        "http://user:pw@hooks.acmecorp.com/",
        "not a url",
    ],
)
async def test_a_webhook_url_to_a_private_target_is_refused_with_400(
    make_settings: Callable[..., Settings], url: str
) -> None:
    settings = make_settings(providers="email=known", allowed_private_networks="")
    async with LiveServer(settings) as server:
        key = await server.create_account("ssrf", credits=5)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            response = await client.post(
                "/api/v1/enrich", json={"contacts": [MIKE], "webhookUrl": url}
            )
            balance = (await client.get("/api/v1/credits")).json()["balance"]
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("webhookUrl")
    assert balance == 5


async def test_a_name_that_resolves_to_loopback_is_never_connected(
    make_settings: Callable[..., Settings], dns_zone: LoopbackDns
) -> None:
    """DNS rebinding: the name passes at submission, its address is refused at delivery."""
    dns_zone.add_a("hooks.acmecorp.com", "127.0.0.1")
    settings = make_settings(
        providers="email=known",
        allowed_private_networks="",
        dns_servers=dns_zone.address,
    )
    async with HookReceiver() as hook, LiveServer(settings) as server:
        key = await server.create_account("rebind", credits=5)
        owner = await server.account_id("rebind")
        async with server.services.db.session() as session:
            await import_rows(session, list(enumerate(KNOWN, start=2)), ImportReport(), owner)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            url = f"http://hooks.acmecorp.com:{hook.port}/hook"
            accepted = await client.post(
                "/api/v1/enrich", json={"contacts": [MIKE], "webhookUrl": url}
            )
            assert accepted.status_code == 202, accepted.text
            log = await _deliveries(client, accepted.json()["jobId"], "failed")
    assert hook.calls == []
    assert log["webhook"]["attempts"] == 1  # type: ignore[index]
    assert "not public" in log["attempts"][0]["error"]  # type: ignore[index]
