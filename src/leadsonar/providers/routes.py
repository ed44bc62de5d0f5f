"""``GET /providers``: every provider, its order, status and recent stats."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.providers.schemas import ProvidersPage

router = APIRouter(tags=["providers"])


@router.get("/providers", response_model=ProvidersPage)
async def providers(
    request: Request, principal: Principal = Depends(current_principal)
) -> ProvidersPage:
    """List enrichment providers: name, kind, fields, enabled, order, cost, status, stats."""
    registry = request.app.state.services.registry
    page: ProvidersPage = await registry.describe()
    return page
