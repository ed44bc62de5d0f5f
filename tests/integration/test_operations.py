"""Health, readiness and metrics (issue 12 §3): no key needed, readiness follows the database
and Redis, metrics count what happened (Prometheus text parsed with prometheus-client)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.ports import free_port
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def _value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _scrape(client: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_healthz_and_readyz_answer_without_a_key(
    make_settings: Callable[..., Settings],
) -> None:
    async with LiveServer(make_settings()) as server, httpx.AsyncClient(base_url=server.url) as c:
        health = await c.get("/healthz")
        ready = await c.get("/readyz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readyz_checks_redis_when_it_is_configured(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    async with (
        LiveServer(make_settings(rate_limit_storage=redis_url)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["redis"] == "ok"


async def test_readyz_is_503_when_redis_does_not_answer(
    make_settings: Callable[..., Settings],
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with (
        LiveServer(make_settings(rate_limit_storage=dead)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] != "ok"
    assert "redis" in body["error"]
    assert alive.status_code == 200  # liveness does not depend on Redis


@pytest.mark.postgres
async def test_readyz_is_503_when_the_database_goes_away(
    make_settings: Callable[..., Settings], postgres_url: str
) -> None:
    async with (
        LiveServer(make_settings(database_url=postgres_url)) as server,
        httpx.AsyncClient(base_url=server.url, timeout=20) as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
        admin, _, name = postgres_url.replace("+psycopg", "").rpartition("/")
        with psycopg.connect(f"{admin}/test", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unreachable")
        assert (await client.get("/metrics")).status_code == 200  # scrapes keep working


async def test_metrics_count_requests_lookups_credits_jobs_and_smtp(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_mx("metrics.test", [(10, "mx.metrics.test")])
    dns_zone.add_a("mx.metrics.test", "127.0.0.2")
    await smtp_world.serve("127.0.0.2", mailboxes={"ada.lovelace@metrics.test"})
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
        rate_limit="1000/second",
        providers="email=known,smtp;phone=known",
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("metrics", credits=20)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-API-Key": key}, timeout=60
        ) as client:
            before = await _scrape(client)
            found = await client.post(
                "/api/v1/find-email",
                json={"firstName": "Ada", "lastName": "Lovelace", "website": "metrics.test"},
            )
            assert found.json()["email"] == "ada.lovelace@metrics.test"
            job = await client.post(
                "/api/v1/enrich",
                json={
                    "contacts": [
                        {"firstName": "Bo", "lastName": "Z", "website": "metrics.test"},
                        {"firstName": "Cy", "lastName": "Q", "website": "metrics.test"},
                    ],
                    "findEmail": True,
                },
            )
            assert job.status_code == 202
            await client.get("/api/v1/enrich/nope")
            after = await _scrape(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    route = {"method": "POST", "route": "/api/v1/find-email"}
    assert delta("leadsonar_http_requests_total", **route, status="200") == 1
    assert delta("leadsonar_http_request_duration_seconds_count", **route) == 1
    assert (
        delta(
            "leadsonar_http_requests_total",
            method="GET",
            route="/api/v1/enrich/{job_id}",
            status="404",
        )
        == 1
    )
    assert delta("leadsonar_lookups_total", field="email", provider="smtp", outcome="found") >= 1
    assert delta("leadsonar_credits_charged_total") >= 3  # 1 lookup + 2 reserved job items
    assert delta("leadsonar_smtp_connections_total", outcome="ok") >= 1
    assert delta("leadsonar_smtp_rcpts_total", reply_class="accepted") >= 1
    assert delta("leadsonar_smtp_rcpts_total", reply_class="rejected") >= 1  # catch-all probe
    jobs = sum(v for (n, _), v in after.items() if n == "leadsonar_jobs")
    items = sum(v for (n, _), v in after.items() if n == "leadsonar_job_items")
    assert jobs >= 1 and items >= 2
    assert ("leadsonar_queue_depth", frozenset()) in after


async def test_metrics_route_labels_stay_bounded(make_settings: Callable[..., Settings]) -> None:
    async with LiveServer(make_settings()) as server, httpx.AsyncClient(base_url=server.url) as c:
        for n in range(5):
            await c.get(f"/random/{n}")
        samples = await _scrape(c)
    routes = {dict(labels).get("route") for (name, labels) in samples if "http_requests" in name}
    assert not any(r and r.startswith("/random") for r in routes)
    assert "unmatched" in routes
