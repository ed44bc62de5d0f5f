"""The process's services, assembled once: ``open_services(settings)`` and ``close_services``.

The API server (:func:`leadsonar.app.create_app`'s lifespan), the queue worker and every CLI
command start here. Nothing here imports the web framework, so a CLI command (``leadsonar
enrich``, ``leadsonar import``) does not pay for loading FastAPI, its routes and the dashboard.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import httpx

from leadsonar.accounts.keycache import PrincipalCache
from leadsonar.accounts.service import load_or_create_secret
from leadsonar.config import Settings
from leadsonar.enrichment.runner import JobRunner
from leadsonar.enrichment.tasks import QueueRunner
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.kit.net.safe_http import USER_AGENT
from leadsonar.kit.net.socks import check_proxy, parse_proxy_url
from leadsonar.kit.ratelimit import FailureThrottle, KeyRateLimiter
from leadsonar.lookup.service import LookupService
from leadsonar.lookup.verify import VerifyService
from leadsonar.providers.catalog import build_registry
from leadsonar.providers.registry import ProviderRegistry
from leadsonar.services import Services
from leadsonar.suppressions.service import SuppressionList
from leadsonar.waterfall.engine import Waterfall
from leadsonar.webhooks.delivery import WebhookDispatcher

log = logging.getLogger(__name__)

GC_THRESHOLDS = (10_000, 10, 10)
"""The cyclic collector's thresholds once start-up is done (``gc.set_threshold``; CPython's
default is ``(700, 10, 10)``: a young collection per 700 net allocations of containers). What a
request allocates is nearly all freed by reference counting, so those frequent collections found
little and cost about 5 % of an imported lookup's CPU (docs/benchmarks.md). 10,000 measured the
same as 50,000, and cyclic garbage (an exception's traceback, say) then waits for at most
10,000 allocations: a review measured 13 → 215 MiB of peak memory at 50,000 for a synthetic
cycle of 20 KB per call."""


def provider_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one shared client for provider APIs (CONVENTIONS habit 9): explicit timeouts
    (``LEADSONAR_HTTP_TIMEOUT`` for reads, writes and pool waits, ``LEADSONAR_HTTP_CONNECT_TIMEOUT``
    to connect), bounded connections, no redirects (an API that redirects is misconfigured)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


def _hunter_verifier(registry: ProviderRegistry) -> Any:
    """Hunter's Email Verifier when its key is set: verify-email's second opinion."""
    hunter = registry.providers.get("hunter")
    if hunter is None or hunter.status_detail() is not None:
        return None
    return getattr(hunter, "verify_email", None)


async def open_services(
    settings: Settings,
    *,
    start_runner: bool = True,
    work_jobs: bool = True,
    pre_ping: bool = True,
) -> Services:
    """Open the database (migrating it), build providers and start the job runner.

    Args:
        start_runner: start the job runner at all (CLI one-off commands do not).
        work_jobs: work bulk-job items in this process. On SQLite, False leaves the embedded
            runner stopped; on PostgreSQL the queue is still opened (``POST /enrich`` defers on
            it) but no worker runs (``serve --no-worker``).
        pre_ping: test each pooled PostgreSQL connection before use (a round trip per
            session). ``leadsonar worker`` turns it off: after a database restart the first
            use of a dead connection fails its item's queue entry (SQLAlchemy then renews the
            pool's older connections) and procrastinate tries the entry again, instead of every
            session of every item costing a round trip.
    """
    db = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        **({} if pre_ping else {"pool_pre_ping": False}),
    )
    await upgrade_to_head(db.engine)
    async with db.write_session() as session:  # read-then-insert: BEGIN IMMEDIATE on SQLite
        secret = await load_or_create_secret(
            session, settings.secret_key.get_secret_value() if settings.secret_key else None
        )
    http = provider_http_client(settings)
    try:
        registry = build_registry(settings, db, http)
    except BaseException:
        await http.aclose()
        raise
    waterfall = Waterfall.from_settings(registry, settings, db)
    await waterfall.open()
    website = registry.providers.get("website")
    lookup = LookupService(db, waterfall, settings, web=getattr(website, "http", None), api=http)
    verify = VerifyService(
        db,
        settings,
        registry.providers["smtp"].checker,  # type: ignore[attr-defined]
        lookup.allow_reserved,
        second_opinion=_hunter_verifier(registry),
    )
    runner: JobRunner | QueueRunner
    if db.sqlite:
        runner = JobRunner(
            db,
            lookup,
            settings.job_concurrency,
            settings.job_poll_interval,
            settings.refund_not_found,
            verify=verify,
        )
        if start_runner and work_jobs:
            await runner.start()
    else:
        runner = QueueRunner(db, lookup, settings, work=work_jobs, verify=verify)
        if start_runner:
            await runner.start()
    # Deliveries are claimed with SKIP LOCKED (PostgreSQL) or under SQLite's write lock, so
    # every process may send them: API-only and worker processes alike.
    dns_check = None
    if settings.dns_check_name:
        dns_check = ResolverCheck(Resolver.from_settings(settings), settings.dns_check_name)
        lookup.dns_check = dns_check
    webhooks = WebhookDispatcher(db, settings, lookup.companies.resolver)
    if start_runner:
        await webhooks.start()
    services = Services(
        settings=settings,
        db=db,
        secret=secret,
        registry=registry,
        lookup=lookup,
        verify=verify,
        runner=runner,
        rate_limiter=KeyRateLimiter(settings.rate_limit, settings.rate_limit_storage),
        principals=PrincipalCache(settings.auth_cache_ttl),
        http=http,
        webhooks=webhooks,
        auth_throttle=FailureThrottle(settings.auth_failure_limit, settings.rate_limit_storage),
        dns_check=dns_check,
    )
    services.verify.dns_check = dns_check
    suppressions = SuppressionList(db)
    lookup.suppressions = suppressions
    lookup.companies.suppressions = suppressions
    services.verify.suppressions = suppressions
    services.verify.checker.suppressions = suppressions
    # What start-up built (modules, the app, the services) lives as long as the process: out
    # of the cyclic collector's way, so that its full collections do not walk it again and
    # again under load (they stalled API requests ~80 ms every few seconds); and collecting
    # less often (GC_THRESHOLDS). The server, the worker and the CLI's commands all start here.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return services


async def warn_when_dns_is_broken(services: Services) -> None:
    """The start-up checks: a loud warning when DNS does not work (the server still starts;
    lookups then answer unknown, see :mod:`leadsonar.kit.net.resolver_check`) or when the SMTP
    proxy (``LEADSONAR_SMTP_PROXY``) cannot be reached."""
    settings = services.settings
    if settings.smtp_proxy is not None:
        proxy = parse_proxy_url(settings.smtp_proxy.get_secret_value())
        problem = await check_proxy(
            proxy,
            timeout=settings.smtp_connect_timeout,
            allowed=settings.allowed_private_networks,
        )
        if problem:
            log.warning(
                "SMTP PROXY UNREACHABLE: %s. Every mailbox check will answer 'unknown' with this "
                "reason until it can be reached.",
                problem,
            )
    if services.dns_check is None:
        return
    status = await services.dns_check.check(force=True)
    if not status.ok:
        log.warning(
            "DNS IS NOT WORKING: %s. Every lookup will answer null, saying why, until it does; "
            "set LEADSONAR_DNS_SERVERS to a working resolver (or LEADSONAR_DNS_CHECK_NAME to a "
            "name your resolver must know). /readyz answers 503 meanwhile.",
            status.reason,
        )


async def close_services(services: Services) -> None:
    await services.runner.stop()
    if services.webhooks is not None:
        await services.webhooks.stop()
    for provider in services.registry.providers.values():
        aclose = getattr(provider, "aclose", None)
        if aclose is not None:
            await aclose()
    await services.lookup.waterfall.aclose()
    await services.lookup.companies.http.aclose()  # a no-op when shared with the crawler
    if services.registry.knowledge is not None:  # what lookups learned, still being written
        await services.registry.knowledge.aclose()
    if services.http is not None:
        await services.http.aclose()
    await services.db.dispose()
