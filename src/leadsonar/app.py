"""The FastAPI application: ``create_app(settings)`` and its lifespan.

The lifespan opens the database (migrations applied), loads the key-hashing secret, builds the
provider registry and waterfall, and starts the job runner: on SQLite the embedded runner, on
PostgreSQL a procrastinate worker (unless the process serves the API only). Every error leaves as
``{"error": "<sentence>"}`` through the handlers registered here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadsonar.accounts.edge import AuthFirstMiddleware
from leadsonar.accounts.routes import router as keys_router
from leadsonar.assembly import close_services, open_services, warn_when_dns_is_broken
from leadsonar.config import Settings, get_settings
from leadsonar.dashboard.routes import install_dashboard
from leadsonar.enrichment.routes import MAX_UPLOAD_BYTES
from leadsonar.enrichment.routes import router as enrichment_router
from leadsonar.exceptions import LeadSonarError
from leadsonar.idempotency.middleware import IdempotencyMiddleware
from leadsonar.kit.http_edge import BodyGuardMiddleware, RequestContextMiddleware
from leadsonar.kit.openapi import install_openapi
from leadsonar.kit.openapi_errors import install_error_responses
from leadsonar.kit.validation import describe_validation_error
from leadsonar.ledger.routes import router as ledger_router
from leadsonar.lookup.routes import router as lookup_router
from leadsonar.operations.routes import router as operations_router
from leadsonar.providers.routes import router as providers_router
from leadsonar.services import Services as Services  # re-exported: tests
from leadsonar.suppressions.routes import router as suppressions_router

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024


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
