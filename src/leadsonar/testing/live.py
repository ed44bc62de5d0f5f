"""Run the real app on a loopback port inside the current event loop (tests and benchmarks).

Example::

    async with LiveServer(settings) as server:
        key = await server.create_account("acme", credits=50)
        async with httpx.AsyncClient(base_url=server.url) as client:
            ...
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

import uvicorn

from leadsonar.accounts import service as accounts
from leadsonar.app import Services, create_app
from leadsonar.config import Settings
from leadsonar.ledger import service as ledger
from leadsonar.testing.ports import free_port

SERVER_KEEP_ALIVE = 75
"""Seconds the server keeps an idle connection (``leadsonar serve`` uses the same)."""


class UvicornInLoop:
    """Runs ``self.server`` (a :class:`uvicorn.Server`) as a task of the running event loop;
    ``async with`` returns once it accepts connections and stops it on exit."""

    server: uvicorn.Server
    what = "the server"
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(500):
            if self.server.started:
                return self
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"{self.what} stopped while starting")
            await asyncio.sleep(0.01)
        raise RuntimeError(f"{self.what} did not start within 5 seconds")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


class LiveServer(UvicornInLoop):
    """uvicorn serving ``create_app(settings)`` on ``127.0.0.1:<free port>``;
    ``work_jobs=False`` is ``serve --no-worker`` (the API only).

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        services: the app's services once started (db, registry, runner …).
    """

    def __init__(self, settings: Settings, *, work_jobs: bool = True) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, work_jobs=work_jobs)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            backlog=2048,
            # Longer than any client's idle-connection expiry (httpx: 5 s): with equal timeouts
            # the server closes an idle connection just as the client reuses it, and the
            # client's request dies with httpx.ReadError (the flaky 200-request race test).
            timeout_keep_alive=SERVER_KEEP_ALIVE,
        )
        self.server = uvicorn.Server(config)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def account_id(self, name: str) -> int:
        """The id of the account named ``name`` (for seeding its imported contacts)."""
        async with self.services.db.read_session() as session:
            return (await accounts.get_account_by_name(session, name)).id

    async def create_account(self, name: str, credits: int = 0) -> str:
        """Create an account with ``credits`` and return its new API key."""
        async with self.services.db.write_session() as session:
            account = await accounts.create_account(session, name)
            if credits:
                await ledger.grant(session, account.id, credits, "initial")
            return await accounts.create_key(session, account, self.services.secret)
