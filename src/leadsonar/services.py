"""The application's services and the typed dependency that hands them to routes.

:func:`leadsonar.app.open_services` builds one :class:`Services` per process when the app starts
(database, key-hashing secret, providers, lookup and verify services, job runner, limits).
Routes take it as an argument typed :data:`ServicesDep` (``services: ServicesDep``) instead of
reaching into ``request.app.state``; pure ASGI middleware, which runs before FastAPI's
dependencies, uses :func:`services_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from leadsonar.accounts.keycache import PrincipalCache
from leadsonar.config import Settings
from leadsonar.enrichment.runner import JobRunner
from leadsonar.enrichment.tasks import QueueRunner
from leadsonar.kit.db import Database
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.kit.ratelimit import FailureThrottle, KeyRateLimiter
from leadsonar.lookup.service import LookupService
from leadsonar.lookup.verify import VerifyService
from leadsonar.providers.registry import ProviderRegistry
from leadsonar.webhooks.delivery import WebhookDispatcher


@dataclass
class Services:
    """Everything a request may need, built once per process by the app's lifespan.

    Attributes:
        settings: the process's settings.
        db: the database (engine and session scopes).
        secret: the HMAC secret API keys are hashed with.
        registry: the providers, their order and health.
        lookup: find-email / find-phone.
        verify: verify-email.
        runner: the bulk-job runner (embedded on SQLite, the queue on PostgreSQL).
        rate_limiter: the per-key request limit.
        principals: authenticated keys remembered for a few seconds (revocations drop them).
        http: the shared client for provider APIs.
        webhooks: the job-finished delivery dispatcher.
        auth_throttle: failed authentications per client address.
        dns_check: the resolver self-check, when configured.
    """

    settings: Settings
    db: Database
    secret: bytes
    registry: ProviderRegistry
    lookup: LookupService
    verify: VerifyService
    runner: JobRunner | QueueRunner
    rate_limiter: KeyRateLimiter
    principals: PrincipalCache
    http: httpx.AsyncClient | None = None
    webhooks: WebhookDispatcher | None = None
    auth_throttle: FailureThrottle | None = None
    dns_check: ResolverCheck | None = None


def services_of(app: Any) -> Services:
    """The :class:`Services` of a started app (``scope["app"]`` in ASGI middleware).

    Raises:
        RuntimeError: the app's lifespan has not run (no services yet).
    """
    services = getattr(app.state, "services", None)
    if not isinstance(services, Services):
        raise RuntimeError("the app's services are not open (its lifespan has not started)")
    return services


async def get_services(request: Request) -> Services:
    """The FastAPI dependency behind :data:`ServicesDep` (async: a sync dependency would be run
    in the thread pool on every request)."""
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]
"""A route argument ``services: ServicesDep`` receives the app's :class:`Services`."""
