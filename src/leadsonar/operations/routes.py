"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``: no API key (bind the port to a private
network or put them behind the proxy's access rules; docs/operations.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from leadsonar.deps import ServicesDep
from leadsonar.kit import metrics
from leadsonar.operations.service import readiness, refresh_job_gauges

router = APIRouter(tags=["operations"])


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(services: ServicesDep) -> JSONResponse:
    """``200 {"status": "ready", "checks": {...}}`` when the database (and Redis and the DNS
    resolver, when configured) answer; ``503 {"error": …, "checks": {...}}`` otherwise."""
    ready, checks = await readiness(services)
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failing = ", ".join(f"{name}: {detail}" for name, detail in checks.items() if detail != "ok")
    return JSONResponse({"error": f"Not ready: {failing}.", "checks": checks}, status_code=503)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(services: ServicesDep) -> Response:
    """Prometheus text exposition of :mod:`leadsonar.kit.metrics`."""
    await refresh_job_gauges(services)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
