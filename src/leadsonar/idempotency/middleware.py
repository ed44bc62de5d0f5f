"""``Idempotency-Key`` on every POST, as Stripe defines it and the IETF draft
(draft-ietf-httpapi-idempotency-key-header) writes it down.

A client that may retry a POST (a timeout, a dropped connection) sends a unique key with it:

* the first request with a key runs normally; when it succeeds (2xx) its answer (status,
  content type, body) is kept for :data:`TTL` (24 h) under ``(account, key)``;
* a retry with the same key and the same request (method, path and body bytes) within 24 h gets
  the kept answer with ``Idempotent-Replayed: true``: nothing runs again, nothing is charged;
* the same key with a different request → ``409`` (the draft's 422 is not used: the API answers
  bad input with 400 and conflicts with 409, ``{"error": …}`` as everywhere);
* the same key while the first request is still running → ``409`` with ``Retry-After: 1``;
* a request that did not succeed (4xx, 5xx, or a crash) keeps nothing, so it may be retried
  with the same key once the cause is fixed.

Keys are 1-255 printable ASCII characters and belong to the account that sent them. The claim
is one ``INSERT … ON CONFLICT DO NOTHING`` on the ``(account_id, key)`` unique constraint, so
concurrent retries cannot both run, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsonar.idempotency import repository
from leadsonar.kit.http_edge import ASGIApp, Message, Receive, Scope, Send, send_json_error
from leadsonar.services import services_of

TTL = timedelta(hours=24)
HEADER = b"idempotency-key"
_KEY = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,254}$")
_KEPT_HEADERS = (b"content-type", b"location")


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over the method, path and exact body bytes (hex)."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


class IdempotencyMiddleware:
    """Applies the rules above to authenticated POSTs (the principal comes from
    :class:`~leadsonar.accounts.edge.AuthFirstMiddleware`, the body is already bounded by
    :class:`~leadsonar.kit.http_edge.BodyGuardMiddleware`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw = next((bytes(v) for k, v in scope.get("headers", ()) if k.lower() == HEADER), None)
        principal = scope.get("state", {}).get("principal")
        if raw is None or principal is None:
            await self.app(scope, receive, send)
            return
        key = raw.decode("latin-1").strip()
        if not _KEY.match(key):
            await send_json_error(
                send, 400, "Idempotency-Key must be 1 to 255 printable ASCII characters."
            )
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += bytes(message.get("body", b""))
            more = bool(message.get("more_body", False))
        print_ = fingerprint("POST", scope["path"], body)
        db = services_of(scope["app"]).db
        account_id = int(principal.account_id)
        row_id = await self._claim(db, account_id, key, print_)
        if row_id is None:
            await self._answer_existing(db, account_id, key, print_, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        settled = False  # the key was kept (a 2xx answer) or released (anything else)

        async def capture(message: Message) -> None:
            nonlocal status, headers, settled
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    # Settle the key before the answer's last byte leaves: a client that
                    # retries the moment it has the answer must find it kept (2xx) or free
                    # to use again (a failure is not kept), never "still running".
                    if 200 <= status < 300:
                        await self._keep(db, row_id, status, headers, b"".join(chunks))
                    else:
                        await self._release(db, row_id)
                    settled = True
            await send(message)

        try:
            await self.app(scope, replay, capture)
        except BaseException:
            if not settled:
                await self._release(db, row_id)
            raise
        if not settled:
            await self._release(db, row_id)

    async def _keep(
        self,
        db: Any,
        row_id: int,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        kept = [
            [k.decode("latin-1"), v.decode("latin-1")]
            for k, v in headers
            if k.lower() in _KEPT_HEADERS
        ]
        async with db.session() as session:
            await repository.keep_answer(session, row_id, status, kept, body)

    async def _claim(self, db: Any, account_id: int, key: str, print_: str) -> int | None:
        """Insert the running row; its id, or ``None`` when the key is taken (and fresh)."""
        now = datetime.now(UTC)
        async with db.session() as session:
            return await repository.claim(session, account_id, key, print_, now, TTL)

    async def _release(self, db: Any, row_id: int) -> None:
        async with db.session() as session:
            await repository.release(session, row_id)

    async def _answer_existing(
        self, db: Any, account_id: int, key: str, print_: str, send: Send
    ) -> None:
        async with db.session() as session:
            row = await repository.stored(session, account_id, key)
        if row is None:  # released between our insert and this read: the client may retry
            await send_json_error(
                send,
                409,
                "A request with this Idempotency-Key just finished without an answer to keep; "
                "retry it.",
                retry_after="1",
            )
            return
        if row.fingerprint != print_:
            await send_json_error(
                send,
                409,
                "This Idempotency-Key was already used with a different request (method, path or "
                "body); use a new key for a new request.",
            )
            return
        if row.status != "done" or row.response_status is None:
            await send_json_error(
                send,
                409,
                "A request with this Idempotency-Key is still being processed; retry after it "
                "finishes.",
                retry_after="1",
            )
            return
        body = row.response_body or b""
        headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in row.response_headers or []
        ]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send(
            {"type": "http.response.start", "status": row.response_status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})
