"""The OpenAPI document as the API really answers: every error is ``{"error": "<sentence>"}``.

FastAPI documents a ``422`` that LeadSonar never sends (bad input is ``400``) and none of the
errors it does send. :func:`install_error_responses` rewrites the generated document once:
each operation under the API prefix lists ``400``, ``401``, ``402``, ``404``, ``405``, ``409``,
``413``, ``429`` and ``500`` with the ``Error`` schema, and no ``422``; every POST lists the
optional ``Idempotency-Key`` header. The fuzzing test
(schemathesis) checks every answer against this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERRORS = {
    "400": "Bad input (one sentence names the first bad field); nothing was charged.",
    "401": "Missing, unknown or revoked API key.",
    "402": "Not enough credits; nothing was charged.",
    "404": "No such route or resource (or it belongs to another account).",
    "405": "Method not allowed; `Allow` lists the methods.",
    "409": "Idempotency-Key conflict: used with another request, or still running.",
    "413": "Request body over 1 MiB.",
    "429": "Rate limited, or too many failed authentications; see `Retry-After`.",
    "500": "Internal error; the request was not completed and its credit refunded.",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes retries safe: the same key and request within 24 h return the kept "
    "answer without running or charging again (docs/api.md).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~][ -~]*$"},
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"error": {"type": "string", "minLength": 1}},
    "required": ["error"],
    "additionalProperties": False,
}


def install_error_responses(app: FastAPI, prefix: str) -> None:
    """Make ``app.openapi()`` document LeadSonar's error answers for routes under ``prefix``."""

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
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        reference = {"$ref": "#/components/schemas/Error"}
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(prefix):
                continue
            for method, operation in operations.items():
                if method == "post":
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, description in ERRORS.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": reference}},
                        },
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
