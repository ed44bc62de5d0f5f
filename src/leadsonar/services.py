"""The application's services and the request's unit of work.

:func:`leadsonar.assembly.open_services` builds one :class:`Services` per process when it
starts (database, key-hashing secret, providers, lookup and verify services, job runner,
limits).
Routes take it as an argument typed :data:`leadsonar.deps.ServicesDep` (``services:
ServicesDep``) instead of reaching into ``request.app.state``; pure ASGI middleware, which runs
before FastAPI's dependencies, uses :func:`services_of`. This module does not import FastAPI
(the CLI builds its services without loading the web framework).

A route's database work is one :class:`UnitOfWork` (``work: WorkDep``, :mod:`leadsonar.deps`):
the request edge. It opens one session when the route first asks for it and commits it after
the route returns and before the response is sent (rolls it back if the route raised);
services and repositories only flush (DESIGN.md §6, docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

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


class UnitOfWork:
    """One request's database work: at most one session, opened when the route first asks for
    it, committed when the route returns (:func:`leadsonar.deps.unit_of_work`), rolled back when
    it raises.

    Opening late keeps the request edge cheap where it matters: a route that first reads an
    upload and checks 50,000 rows takes SQLite's write lock only when it stores the job.

    Args:
        db: the database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._scope: AbstractAsyncContextManager[AsyncSession] | None = None
        self._session: AsyncSession | None = None
        self._writes = False
        self._after_commit: list[Callable[[], None]] = []

    async def reading(self) -> AsyncSession:
        """The request's session for reads (and writes that need no lock taken first)."""
        if self._session is None:
            self._scope = self._db.session()
            self._session = await self._scope.__aenter__()
        return self._session

    async def writing(self) -> AsyncSession:
        """The request's session for read-then-write work: on SQLite it begins with
        ``BEGIN IMMEDIATE`` (:meth:`Database.write_session`).

        Raises:
            RuntimeError: the request already opened a plain session (a route asks for the
                kind of session it needs first; SQLite cannot upgrade a read to the write
                lock without the risk of ``SQLITE_BUSY``).
        """
        if self._session is None:
            self._scope = self._db.write_session()
            self._session = await self._scope.__aenter__()
            self._writes = True
        elif not self._writes and self._db.sqlite:
            raise RuntimeError("this request opened a read session before asking to write")
        return self._session

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the request's work is committed (wake a job runner that
        would otherwise not see the new job until its next poll); never on a rollback."""
        self._after_commit.append(callback)

    async def end(self, error: BaseException | None) -> None:
        """Commit (``error`` is None) or roll back the request's session, if one was opened;
        then run the after-commit callbacks of a commit."""
        scope, self._scope, self._session = self._scope, None, None
        if scope is not None:
            if error is None:
                await scope.__aexit__(None, None, None)
            else:
                await scope.__aexit__(type(error), error, error.__traceback__)
        if error is None:
            for callback in self._after_commit:
                callback()
