"""Pydantic validation errors → one sentence naming the first bad field (for 400 answers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _location(loc: Sequence[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def describe_validation_error(errors: Sequence[Any]) -> str:
    """A sentence for the first error, e.g. ``"firstName is required."``.

    Args:
        errors: ``RequestValidationError.errors()`` (pydantic's error dicts).
    """
    if not errors:
        return "The request body is not valid."
    first = errors[0]
    kind = first.get("type", "")
    where = _location(first.get("loc", ()))
    message = str(first.get("msg", "is not valid"))
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if kind == "missing" and where:
        return f"{where} is required."
    if kind == "missing":
        return "A JSON request body is required."
    if kind == "model_attributes_type" or (kind in ("dict_type", "model_type") and not where):
        return "The request body must be a JSON object."
    if kind.startswith("string_too_short"):
        return f"{where} must not be empty."
    if kind.startswith("string_too_long"):
        limit = first.get("ctx", {}).get("max_length")
        return f"{where} is too long (at most {limit} characters)."
    if kind == "too_short" and where:
        return f"{where} must not be empty."
    if kind == "too_long" and where:
        limit = first.get("ctx", {}).get("max_length")
        return f"{where} has too many items (at most {limit})."
    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        return f"{where}: {text}" if where else text
    if kind in ("string_type", "bool_type", "list_type", "int_type", "dict_type", "model_type"):
        expected = {
            "string_type": "a string",
            "bool_type": "true or false",
            "list_type": "an array",
            "int_type": "an integer",
            "dict_type": "an object",
            "model_type": "an object",
        }[kind]
        return f"{where} must be {expected}." if where else f"The body must be {expected}."
    return f"{where}: {message}." if where else f"{message}."
