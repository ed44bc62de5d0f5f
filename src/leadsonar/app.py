"""The FastAPI application: ``create_app(settings)`` and its lifespan.

The lifespan opens the database (migrations applied), loads the key-hashing secret, builds the
provider registry and waterfall, and starts the job runner: on SQLite the embedded runner, on
PostgreSQL a procrastinate worker (unless the process serves the API only). Every error leaves as
``{"error": "<sentence>"}`` through the handlers registered here.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadsonar.accounts.edge import AuthFirstMiddleware
from leadsonar.accounts.keycache import PrincipalCache
from leadsonar.accounts.routes import router as keys_router
from leadsonar.accounts.service import load_or_create_secret
from leadsonar.config import Settings, get_settings
from leadsonar.dashboard.routes import install_dashboard
from leadsonar.enrichment.routes import MAX_UPLOAD_BYTES
from leadsonar.enrichment.routes import router as enrichment_router
from leadsonar.enrichment.runner import JobRunner
from leadsonar.enrichment.tasks import QueueRunner
from leadsonar.exceptions import LeadSonarError
from leadsonar.idempotency.middleware import IdempotencyMiddleware
from leadsonar.kit.db import Database
from leadsonar.kit.http_edge import BodyGuardMiddleware, RequestContextMiddleware
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.kit.net.safe_http import USER_AGENT
from leadsonar.kit.net.socks import check_proxy, parse_proxy_url
from leadsonar.kit.openapi import install_openapi
from leadsonar.kit.openapi_errors import install_error_responses
from leadsonar.kit.ratelimit import FailureThrottle, KeyRateLimiter
from leadsonar.kit.validation import describe_validation_error
from leadsonar.ledger.routes import router as ledger_router
from leadsonar.lookup.routes import router as lookup_router
from leadsonar.lookup.service import LookupService
from leadsonar.lookup.verify import VerifyService
from leadsonar.operations.routes import router as operations_router
from leadsonar.providers.catalog import build_registry
from leadsonar.providers.registry import ProviderRegistry
from leadsonar.providers.routes import router as providers_router
from leadsonar.services import Services as Services  # re-exported: cli, tests
from leadsonar.suppressions.routes import router as suppressions_router
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

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024


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


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every non-2xx answer is ``{"error": sentence}``: 400 for bad bodies (never 422)."""

    @app.exception_handler(LeadSonarError)
    async def _leadsonar_error(_: Request, exc: LeadSonarError) -> JSONResponse:
        return _error(exc.status_code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if request.url.path == f"{API_PREFIX}/enrich/file":
            if "multipart/form-data" not in content_type.lower():
                return _error(
                    400, "Send the file as multipart/form-data, the CSV in the field 'file'."
                )
            return _error(400, describe_validation_error(exc.errors()))
        if request.method == "POST" and "json" not in content_type.lower():
            return _error(
                400,
                "Send the body as JSON with the header 'Content-Type: application/json'"
                + (f" (it was {content_type.split(';')[0]!r})." if content_type else "."),
            )
        return _error(400, describe_validation_error(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(404, f"Not found: {request.method} {request.url.path} is not a route.")
        if exc.status_code == 405:
            # RFC 9110 §15.5.6: a 405 names the methods the route does support in Allow.
            return _error(
                405,
                f"Method {request.method} is not allowed on {request.url.path}.",
                dict(exc.headers or {}),
            )
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return _error(500, "Internal server error; the request was not completed.")


def create_app(
    settings: Settings | None = None, *, work_jobs: bool = True, **overrides: Any
) -> FastAPI:
    """Build the ASGI app. ``settings`` default to the environment (``LEADSONAR_*``);
    ``work_jobs=False`` serves the API only (bulk-job items are left to ``leadsonar worker``)."""
    settings = settings or get_settings(**overrides)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await open_services(settings, work_jobs=work_jobs)
        app.state.services = services
        await warn_when_dns_is_broken(services)
        try:
            yield
        finally:
            await close_services(services)

    # FastAPIOffline: the /docs page's Swagger UI comes from the package, not a CDN, so it works
    # on a machine without internet.
    app = FastAPIOffline(
        title="LeadSonar",
        summary="Self-hosted waterfall contact enrichment: work emails and direct phones.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        static_url="/docs-assets",
        # LeadSonar exports its own metrics (/metrics, Prometheus) and access log; FastAPI's
        # native OpenTelemetry would look up the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)

    # Pure ASGI, outermost last: request id/access log/metrics → key (before the body) → body
    # limit and control characters → Idempotency-Key → routes. The CSV upload route takes up to
    # MAX_UPLOAD_BYTES plus the form's other fields.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(
        BodyGuardMiddleware,
        max_bytes=MAX_BODY_BYTES,
        path_limits={f"{API_PREFIX}/enrich/file": MAX_UPLOAD_BYTES + 64 * 1024},
    )
    app.add_middleware(AuthFirstMiddleware, prefix=API_PREFIX)
    app.add_middleware(RequestContextMiddleware)

    for router in (
        lookup_router,
        enrichment_router,
        ledger_router,
        providers_router,
        keys_router,
        suppressions_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(operations_router)
    install_openapi(app)
    install_error_responses(app, API_PREFIX)

    install_dashboard(app)

    return app
