"""A FastAPI route class for the hot JSON ``POST`` routes (find-email, find-phone, verify-email).

FastAPI's generic request handler costs more than the lookups it serves from memory: it solves
the dependency graph, parses the content type with :mod:`email.message`, decodes the body with
:mod:`json` and then validates the Python objects, and validates a returned answer again
before serializing it. :class:`JsonBodyRoute` (FastAPI's documented ``route_class`` hook,
``APIRoute.get_route_handler``) handles an endpoint of the shape
``async def endpoint(body: Model, request: Request) -> Response`` in one step: pydantic-core
validates ``Model`` straight from the body's bytes and the endpoint answers its own
:class:`Response`. The route is declared as usual, so the OpenAPI document is unchanged, and a
body that does not validate raises the same :class:`RequestValidationError` (locations under
``body``) that the app's handler turns into its ``400`` sentence.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError


def _validate(model: type[BaseModel], raw: bytes) -> BaseModel:
    """``model`` from a JSON body: UTF-8 by pydantic-core straight from the bytes (a leading
    byte order mark ignored, RFC 8259 §8.1); UTF-16 and UTF-32 (a NUL in the first four bytes,
    RFC 4627 §3) decoded by :func:`json.loads` first, as FastAPI's handler did.

    Raises:
        ValidationError: the body is not a valid ``model`` (or not JSON, as UTF-8).
        ValueError: a UTF-16 or UTF-32 body that is not JSON.
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif b"\x00" in raw[:4]:
        return model.model_validate(json.loads(raw))
    return model.model_validate_json(raw)


def _body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors of a body, located under ``body`` as FastAPI locates them."""
    return [
        {**error, "loc": ("body", *error.get("loc", ()))} for error in exc.errors(include_url=False)
    ]


class JsonBodyRoute(APIRoute):
    """An :class:`APIRoute` whose endpoint takes ``(body: Model, request: Request)`` and
    returns a :class:`Response` (see the module docstring).

    Raises:
        TypeError: at app assembly, when the endpoint's ``body`` parameter is not annotated
            with a pydantic model.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        model = get_type_hints(endpoint).get("body")
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{endpoint.__name__}: 'body' must be annotated with a pydantic model")

        async def handler(request: Request) -> Response:
            # As FastAPI: only a JSON media type (application/json, application/*+json) is
            # parsed; any other body is not the object the route takes.
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json" and not (
                media.startswith("application/") and media.endswith("+json")
            ):
                raise RequestValidationError(
                    [{"type": "model_attributes_type", "loc": ("body",), "msg": ""}]
                )
            raw = await request.body()
            if not raw:
                raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": ""}])
            try:
                body = _validate(model, raw)
            except ValidationError as exc:
                raise RequestValidationError(_body_errors(exc), body=raw) from None
            except ValueError:  # not JSON in any of JSON's encodings
                raise RequestValidationError(
                    [{"type": "json_invalid", "loc": ("body", 0), "msg": ""}], body=raw
                ) from None
            response: Response = await endpoint(body, request)
            return response

        return handler
