"""``GET /providers`` bodies: one row per provider (DESIGN.md §1; field names as on the wire)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    """Field names are the wire's (camelCase, as the rest of the API)."""

    model_config = ConfigDict(frozen=True)


class ProviderLimits(_Wire):
    """The provider's own limits as LeadSonar applies them."""

    rate: str | None = Field(description="rate windows, e.g. '15 per 1 second, 500 per 1 minute'")
    concurrency: int | None = Field(description="requests in flight at most (all processes)")


class ProviderCallStats(_Wire):
    """Recent calls in this process, and totals."""

    calls: int
    hits: int
    misses: int
    errors: int
    timeouts: int
    requests: int = Field(description="HTTP requests sent to the provider by this process")
    lastErrorClass: str | None = Field(description="the last error's class, secret-free")
    latencyP50Ms: int | None
    latencyP95Ms: int | None
    creditsSpent: float = Field(description="provider-side credits, kept across restarts")


class ProviderRow(_Wire):
    """One provider on ``/providers``."""

    name: str
    kind: str = Field(description="builtin or http")
    fields: list[str] = Field(description="email and/or phone")
    enabled: bool
    order: dict[str, int] = Field(description="position per field it is ordered for, from 1")
    cost: float = Field(description="provider credits one answered lookup costs")
    status: str = Field(description="operational, degraded, down or unconfigured")
    reason: str | None
    breaker: str = Field(description="closed, open or half_open")
    restingFor: float | None = Field(description="seconds it still rests")
    limits: ProviderLimits | None
    stats: ProviderCallStats


class ProvidersPage(_Wire):
    """``GET /providers``: every provider, enabled ones first in order, and the order."""

    providers: list[ProviderRow]
    order: dict[str, list[str]]
