"""The HTTP edge: pure ASGI middleware that runs before any route reads a byte of the body.

* :class:`RequestContextMiddleware` (outermost): a request id (``X-Request-ID``, taken from the
  client when it is a short token, generated otherwise), one access-log line per request with
  the query string's key-like parameters redacted, and the request metrics of
  :mod:`leadsonar.kit.metrics`.
* :class:`BodyGuardMiddleware` (inside the authentication middleware): counts the bytes actually
  received, so a chunked or streamed body is refused with ``413`` as soon as it crosses the
  limit (``Content-Length`` alone is a claim, not a limit), and refuses control characters (NUL,
  C0/C1 controls) and lone surrogates in every text the request carries: path, query parameters
  and every string (keys included) of a JSON body, with one ``400`` sentence. PostgreSQL cannot
  store NUL in ``text`` columns at all, and no name, company, domain or address contains one.

Both are plain ASGI (not ``BaseHTTPMiddleware``): the body is never read into memory past the
limit, and the route sees exactly the bytes that were checked.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from leadsonar.kit import metrics
from leadsonar.kit.crypto import unique_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("leadsonar.access")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Query parameter names that carry credentials in the wild (OAuth 2.0 access_token per RFC 6750
# §2.3, provider APIs' api_key/key/apikey, signed URLs' sig/signature). Compared after
# percent-decoding, lower-cased, with '-' read as '_'.
KEY_LIKE_PARAMETERS = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "x_api_key",
        "access_token",
        "token",
        "auth",
        "auth_token",
        "authorization",
        "bearer",
        "id_token",
        "refresh_token",
        "client_secret",
        "secret",
        "password",
        "passwd",
        "pwd",
        "sig",
        "signature",
        "session",
        "sessionid",
    }
)
REDACTED = "[redacted]"
# LeadSonar's own keys (kit/crypto: ls_live_ + 40 URL-safe characters) and bearer credentials,
# wherever they appear in a logged text.
_SECRET_PATTERNS = (
    re.compile(r"ls_live_[A-Za-z0-9_\-]{4,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]+=*"),
)


def is_key_like(name: str) -> bool:
    """True when a query parameter ``name`` usually carries a credential."""
    normal = unquote(name).strip().lower().replace("-", "_")
    return normal in KEY_LIKE_PARAMETERS or normal.endswith(("_key", "_token", "_secret"))


def redact_query(query: str) -> str:
    """``query`` (raw, without ``?``) with the values of key-like parameters replaced by
    ``[redacted]``; other parameters keep their exact bytes."""
    if not query:
        return query
    parts = []
    for pair in re.split(r"([&;])", query):
        if pair in ("&", ";"):
            parts.append(pair)
            continue
        name, eq, _ = pair.partition("=")
        parts.append(f"{name}={REDACTED}" if eq and is_key_like(name) else pair)
    return redact_text("".join(parts))


def redact_target(target: str) -> str:
    """A request target (``/path?query``) safe to log."""
    path, mark, query = target.partition("?")
    return redact_text(path) + (mark + redact_query(query) if mark else "")


def redact_text(text: str) -> str:
    """``text`` with LeadSonar keys and ``Bearer`` credentials replaced by ``[redacted]``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(
            lambda m: (m.group(1) if m.groups() else "") + REDACTED,
            text,
        )
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every record it sees: uvicorn's access log
    (its third argument is the full request target, query string included) and any message.

    Install it on handlers (``configure_logging`` does) so no logger can bypass it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            args = list(record.args)
            if len(args) >= 3 and isinstance(args[2], str):
                args[2] = redact_target(args[2])
            record.args = tuple(args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it itself
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_JSON_EXTRAS = (
    "request_id",
    "method",
    "route",
    "path",
    "status",
    "latency_ms",
    "account_id",
    "client",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC ISO 8601), ``level``, ``logger``, ``message`` and
    the request fields the access log attaches (``request_id``, ``method``, ``route``, ``path``,
    ``status``, ``latency_ms``, ``account_id``, ``client``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _JSON_EXTRAS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Root logging for ``leadsonar serve``: ``text`` (``LEVEL logger: message``) or ``json``
    (:class:`JsonFormatter`), every handler behind :class:`RedactingFilter`. uvicorn's own
    loggers propagate to the root so they get the same format and the same redaction."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def uvicorn_log_config() -> dict[str, Any]:
    """A uvicorn ``log_config`` that leaves formatting to :func:`configure_logging`."""
    return {"version": 1, "disable_existing_loggers": False}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/api/v1/enrich/{job_id}``), or ``unmatched``:
    a bounded label for metrics and logs.

    The route object may know only its path inside an included router (``/enrich/{job_id}``);
    the prefix is what the real path has before that template filled with the path parameters.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    if "{" not in template:  # no parameters: the route's path is the concrete one
        concrete = template
    else:
        concrete = _fill(template, scope.get("path_params") or {})
    path = str(scope.get("path", ""))
    if concrete and isinstance(path, str) and path.endswith(concrete):
        return path[: len(path) - len(concrete)] + template
    return template


def _fill(template: str, params: dict[str, Any]) -> str:
    """``template`` with its ``{name}`` parameters filled from ``params``."""
    return re.sub(
        r"\{([^}:]+)(?::[^}]*)?\}", lambda m: str(params.get(m.group(1), m.group(0))), template
    )


async def send_json_error(send: Send, status: int, message: str, **headers: str) -> None:
    """Answer ``{"error": message}`` with ``status`` straight from middleware."""
    body = json.dumps({"error": message}).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Request id, access log and request metrics around everything else.

    The access log line (logger ``leadsonar.access``, INFO) is
    ``<client> "<METHOD> <redacted target>" <status> <ms>ms id=<request id> account=<id>`` with
    the same fields as record attributes for :class:`JsonFormatter`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = offered if offered and _REQUEST_ID.match(offered) else unique_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            latency = time.perf_counter() - started
            route = route_template(scope)
            metrics.observe_request(scope["method"], route, status, latency)
            # Nothing is formatted when the line would not be written (--log-level warning).
            if access_log.isEnabledFor(logging.INFO):
                self._log(scope, route, status, latency, request_id)

    def _log(self, scope: Scope, route: str, status: int, latency: float, request_id: str) -> None:
        """Write the access-log line of one answered request."""
        principal = scope.get("state", {}).get("principal")
        account_id = getattr(principal, "account_id", None)
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        target = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
        target = redact_target(target + (f"?{query}" if query else ""))
        client = scope.get("client")
        client_text = f"{client[0]}:{client[1]}" if client else "-"
        access_log.info(
            '%s "%s %s" %d %.1fms id=%s account=%s',
            client_text,
            scope["method"],
            target,
            status,
            latency * 1000,
            request_id,
            account_id if account_id is not None else "-",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "path": target,
                "status": status,
                "latency_ms": round(latency * 1000, 2),
                "account_id": account_id,
                "client": client[0] if client else None,
            },
        )


class BodyTooLarge(Exception):
    """The client sent more than the body limit."""


# Unicode's Cc (C0, DEL, C1) and Cs (surrogates) categories, as one character class: one
# regular-expression scan per string instead of a category lookup per character.
_BAD_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


# The same in a UTF-8 body's raw bytes (C1 is U+0080–U+009F, encoded C2 80–C2 9F), apart from
# the JSON whitespace between tokens. A body with none of these and no escape (``\\``) can hold
# no such character once parsed (a raw tab or newline inside a string is not JSON at all).
_RAW_BAD = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")


def _bad_character(text: str) -> str | None:
    found = _BAD_CHARACTER.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            yield place, key
            yield from _walk(item, place)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]")


def control_character_error(scope: Scope, body: bytes) -> str | None:
    """The 400 sentence for the first control character (C0, DEL, C1) or lone surrogate in the
    request's path, query parameters or JSON body strings, or ``None`` when there is none.

    A body that is not JSON is left to the route (which answers its own 400).
    """
    path = scope.get("path", "")
    if found := _bad_character(path):
        return f"The URL path must not contain control characters ({found} found)."
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if found := _bad_character(name) or _bad_character(value):
            return f"Query parameter {name!r} must not contain control characters ({found} found)."
    if not body.strip() or (b"\\" not in body and not _RAW_BAD.search(body)):
        return None  # nothing to find: the body need not be parsed here
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    for where, text in _walk(document, ""):
        if found := _bad_character(text):
            name = where or "The body"
            kind = "invalid characters" if found.startswith("U+D") else "control characters"
            return f"{name} must not contain {kind} ({found} found)."
    return None


class BodyGuardMiddleware:
    """Reads the request body itself, at most ``max_bytes`` of it, then replays it to the app.

    Answers ``413`` when ``Content-Length`` claims more than the limit, or as soon as the bytes
    actually received (chunked or not) cross it: the rest is never read and the route never
    runs, so nothing is charged. Answers ``400`` for control characters (see
    :func:`control_character_error`).
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, path_limits: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = path_limits or {}

    def _too_large(self, limit: int) -> str:
        if limit >= 2 * 1024 * 1024:
            return f"The request body is over {limit // (1024 * 1024)} MiB."
        return f"The request body is over {limit // 1024} KiB."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        length = _header(scope, b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            await send_json_error(send, 413, self._too_large(limit))
            return
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = bytes(message.get("body", b""))
            received += len(chunk)
            if received > limit:
                metrics.REJECTED_REQUESTS.labels(reason="body_too_large").inc()
                await send_json_error(send, 413, self._too_large(limit))
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if problem := control_character_error(scope, body):
            metrics.REJECTED_REQUESTS.labels(reason="control_character").inc()
            await send_json_error(send, 400, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
