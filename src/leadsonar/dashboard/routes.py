"""Serve the dashboard at ``/app`` and redirect ``/`` there.

The dashboard is plain HTML, CSS and JavaScript modules shipped inside the package
(``dashboard/static``): no build step, no CDN, so it works on a machine without internet. It
holds no server-side session: the browser keeps the API key in ``sessionStorage`` and sends it
as ``Authorization: Bearer`` to the ``/api/v1`` routes like any other client (docs/dashboard.md).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"

# The pages are tiny; a browser must still fetch a new app.js after an upgrade, and never cache
# a page that an API key was typed into.
_NO_STORE = "no-store"


class _DashboardFiles(StaticFiles):
    """Static files with ``Cache-Control: no-store`` and a restrictive CSP: the dashboard loads
    nothing from other origins and runs no inline script."""

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = _NO_STORE
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def install_dashboard(app: FastAPI) -> None:
    """Mount the dashboard at ``/app/`` and answer ``GET /`` with a redirect to it."""

    @app.get("/", include_in_schema=False)
    async def _root() -> RedirectResponse:
        return RedirectResponse("/app/", status_code=307)

    @app.get("/app", include_in_schema=False)
    async def _app_slash() -> RedirectResponse:
        return RedirectResponse("/app/", status_code=307)

    app.mount("/app", _DashboardFiles(directory=STATIC_DIR, html=True), name="dashboard")
