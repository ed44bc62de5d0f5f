"""Completes the OpenAPI document (after :func:`leadsonar.kit.openapi.install_openapi`) with the
edge's answers, so the fuzzing test (schemathesis) can hold every answer to the document.

Every operation under the API prefix lists all statuses the edge and the routes can send
(``400``, ``401``, ``402``, ``404``, ``405``, ``409``, ``413``, ``429``, ``500``), each with the
one error schema, and no ``422``; every POST lists the optional ``Idempotency-Key`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

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
    "title": "ErrorBody",
    "type": "object",
    "properties": {"error": {"type": "string", "minLength": 1}},
    "required": ["error"],
}


def install_error_responses(app: FastAPI, prefix: str) -> None:
    """Wrap ``app.openapi`` so routes under ``prefix`` document every error answer."""
    previous: Callable[[], dict[str, Any]] = app.openapi
    done = False

    def openapi() -> dict[str, Any]:
        nonlocal done
        schema = previous()
        if done:
            return schema
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorBody", ERROR_SCHEMA)
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        reference = {"$ref": "#/components/schemas/ErrorBody"}
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(prefix):
                continue
            for method, operation in operations.items():
                if method == "post":
                    parameters = operation.setdefault("parameters", [])
                    if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                        parameters.append(IDEMPOTENCY_KEY)
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
        done = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
