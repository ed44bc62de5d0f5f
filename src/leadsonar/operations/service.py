"""Readiness checks and the scrape-time metrics read from the database.

Each check answers ``(ok, detail)``; a check never raises. Readiness is the AND of: the database
answers ``SELECT 1``; Redis answers when a ``redis://`` storage is configured
(``LEADSONAR_RATE_LIMIT_STORAGE``); the DNS resolver answers for the self-check name
(:mod:`leadsonar.kit.net.resolver_check`) when that check is on
(``LEADSONAR_DNS_CHECK_NAME``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from leadsonar.enrichment.models import ItemState
from leadsonar.kit import metrics
from leadsonar.operations import repository

CHECK_TIMEOUT = 3.0


async def check_database(services: Any) -> tuple[bool, str]:
    """``SELECT 1`` on the application database within :data:`CHECK_TIMEOUT` seconds."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await repository.ping(services.db)
    except Exception as exc:  # any failure means "not ready"; the type is the detail
        return False, f"unreachable ({type(exc).__name__})"
    return True, "ok"


async def check_redis(services: Any) -> tuple[bool, str] | None:
    """PING the rate-limit storage when it is Redis; ``None`` when Redis is not configured."""
    uri = services.settings.rate_limit_storage
    if "redis" not in uri.split("://", 1)[0]:
        return None
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            ok = bool(await services.rate_limiter.storage.check())
    except Exception as exc:
        return False, f"unreachable ({type(exc).__name__})"
    return (True, "ok") if ok else (False, "unreachable")


async def readiness(services: Any) -> tuple[bool, dict[str, str]]:
    """All checks: ``(ready, {check: "ok" | reason})``."""
    checks: dict[str, str] = {}
    ready = True
    ok, detail = await check_database(services)
    checks["database"] = detail
    ready &= ok
    redis = await check_redis(services)
    if redis is not None:
        checks["redis"] = redis[1]
        ready &= redis[0]
    dns_check = getattr(services, "dns_check", None)
    if dns_check is not None:
        status = await dns_check.check()
        checks["dns"] = "ok" if status.ok else status.reason
        ready &= status.ok
    return ready, checks


async def refresh_job_gauges(services: Any) -> None:
    """Set the job, item and queue-depth gauges from the database (one grouped query each)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            jobs, items = await repository.status_counts(services.db)
    except Exception:
        return  # the database is down: /readyz says so; keep the last values
    metrics.JOBS.clear()
    for status, count in jobs:
        metrics.JOBS.labels(status=status).set(count)
    metrics.JOB_ITEMS.clear()
    pending = 0
    for status, count in items:
        metrics.JOB_ITEMS.labels(status=status).set(count)
        if status == ItemState.PENDING:
            pending = count
    metrics.QUEUE_DEPTH.set(pending)
