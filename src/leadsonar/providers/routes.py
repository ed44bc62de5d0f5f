"""``GET /providers``: every provider, its order, status and recent stats."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.services import ServicesDep

router = APIRouter(tags=["providers"])


@router.get("/providers")
async def providers(
    services: ServicesDep, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """List enrichment providers: name, kind, fields, enabled, order, cost, status, stats."""
    registry = services.registry
    return {"providers": registry.describe(), "order": registry.order}
