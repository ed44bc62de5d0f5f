"""The FastAPI dependencies that hand routes the app's services and the request's unit of work.

``services: ServicesDep`` receives the process's :class:`~leadsonar.services.Services`;
``work: WorkDep`` the request's :class:`~leadsonar.services.UnitOfWork`, committed after the
route returns and before the response is sent (DESIGN.md §6, docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from leadsonar.services import Services, UnitOfWork, services_of


async def get_services(request: Request) -> Services:
    """The FastAPI dependency behind :data:`ServicesDep` (async: a sync dependency would be run
    in the thread pool on every request)."""
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]
"""A route argument ``services: ServicesDep`` receives the app's :class:`Services`."""


async def unit_of_work(services: ServicesDep) -> AsyncIterator[UnitOfWork]:
    """The FastAPI dependency behind :data:`WorkDep`: the request's :class:`UnitOfWork`,
    ended right after the route returns (``scope="function"``), so an answer is sent only
    once what it reports is committed."""
    work = UnitOfWork(services.db)
    try:
        yield work
    except BaseException as error:
        await work.end(error)
        raise
    await work.end(None)


WorkDep = Annotated[UnitOfWork, Depends(unit_of_work, scope="function")]
"""A route argument ``work: WorkDep`` receives the request's :class:`UnitOfWork`."""
