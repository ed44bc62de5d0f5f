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

from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError


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
            if not raw.strip():
                raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": ""}])
            try:
                body = model.model_validate_json(raw)
            except ValidationError as exc:
                raise RequestValidationError(_body_errors(exc), body=raw) from None
            response: Response = await endpoint(body, request)
            return response

        return handler
