"""``GET /providers``: every provider, its order, status and recent stats."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.deps import ServicesDep
from leadsonar.providers.schemas import ProvidersPage

router = APIRouter(tags=["providers"])


@router.get("/providers", response_model=ProvidersPage)
async def providers(
    services: ServicesDep, principal: Principal = Depends(current_principal)
) -> ProvidersPage:
    """List enrichment providers: name, kind, fields, enabled, order, cost, status, stats."""
    registry = services.registry
    page: ProvidersPage = await registry.describe()
    return page
