"""The OpenAPI document behind ``/docs``: real error statuses, one error schema, Authorize.

FastAPI documents a ``422`` validation answer on every route with a body or parameters; LeadSonar
never sends one (validation failures are ``400 {"error": …}``, DESIGN.md §1), so it is removed,
and each route lists the statuses it really returns (:func:`errors`), all with the ``Error``
schema. Authenticated routes also get ``401`` and ``429``, routes with a body ``400`` and
``413``, every route ``500``. The security
schemes (``Authorization: Bearer`` and ``X-API-Key``) come from the auth dependency
(:mod:`leadsonar.accounts.dependencies`), so Swagger UI's Authorize and "Try it out" work.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_MEANINGS = {
    400: "Bad request: the sentence says which field or value and why; nothing was changed.",
    401: "Missing, unknown or revoked API key.",
    402: "Insufficient credits: nothing was charged and nothing was started.",
    404: "No such resource for this account.",
    405: "Method not allowed on this path.",
    413: "The request body is too large.",
    429: "Rate limit exceeded; the Retry-After header says when to retry.",
    500: "Server error; the request was not completed.",
}


class ErrorBody(BaseModel):
    """Every non-2xx answer: one human sentence."""

    error: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with its meaning and the ``Error`` schema."""
    return {code: {"model": ErrorBody, "description": _MEANINGS[code]} for code in codes}


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": _MEANINGS[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the post-processed document (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["ErrorBody"] = ErrorBody.model_json_schema()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                codes = [500]
                if operation.get("security"):
                    codes += [401, 429]
                if "requestBody" in operation:
                    codes += [400, 413]  # any body can be malformed or over the size limit
                for code in codes:
                    responses.setdefault(str(code), _error_response(code))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
