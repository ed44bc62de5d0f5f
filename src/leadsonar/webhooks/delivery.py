"""Webhook delivery: POST a finished job's JSON to its ``webhookUrl``, signed, with retries.

- **Body.** Exactly what ``GET /enrich/{jobId}`` returns at the time of the attempt.
- **Signature.** ``LeadSonar-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with
  the account's webhook secret (:mod:`leadsonar.webhooks.signing`).
- **Success** is any 2xx answer within ``LEADSONAR_WEBHOOK_TIMEOUT`` seconds. Redirects are not
  followed (a 3xx is a failure: the receiver must give its final URL).
- **Retries.** A non-2xx answer, a timeout or a connection failure is retried after
  ``LEADSONAR_WEBHOOK_RETRY_DELAY`` seconds, doubling each time (capped at one hour), until
  24 hours after the delivery was queued; then it is ``failed``. A URL whose host resolves only
  to refused addresses (private, loopback, link-local outside
  ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS``) fails at once: nothing is connected, ever.
- **One in flight per job.** A job has one delivery row; an attempt claims it (``pending`` →
  ``sending``) and only the attempt's end puts it back, so two attempts for one job never
  overlap. A process killed mid-attempt leaves ``sending`` rows, set back to ``pending`` on start;
  an attempt that crashes inside LeadSonar is logged and retried like a failed one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx

from leadsonar.config import Settings
from leadsonar.enrichment.service import job_status
from leadsonar.kit.db import Database, as_utc
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.safe_http import USER_AGENT, FetchError, FetchRefused, PinnedTransport
from leadsonar.webhooks import repository
from leadsonar.webhooks.models import WebhookAttempt
from leadsonar.webhooks.service import secret_for
from leadsonar.webhooks.signing import HEADER, sign

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
MAX_RETRY_DELAY = 3600.0
BATCH = 20


def retry_delay(first: float, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``first`` doubled each time,
    at most one hour."""
    return float(min(first * 2 ** max(0, attempts - 1), MAX_RETRY_DELAY))


class WebhookDispatcher:
    """Delivers due webhooks from the ``webhook_deliveries`` table.

    Args:
        db: the database.
        settings: ``webhook_timeout``, ``webhook_retry_delay``, ``allowed_private_networks``,
            ``job_poll_interval`` (how often due deliveries are looked for).
        resolver: the one DNS resolver (receivers' names are resolved and checked per attempt).
        transport: the transport that really connects (tests may pass one).
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        resolver: Resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self._resolver = resolver
        self._transport = transport
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    @functools.cached_property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client, made on first delivery: its TLS context (the CA bundle) costs a
        noticeable part of a CLI command's start, and most commands deliver nothing."""
        return httpx.AsyncClient(
            transport=PinnedTransport(
                self._resolver,
                self.settings.allowed_private_networks,
                self._transport or httpx.AsyncHTTPTransport(),
            ),
            timeout=httpx.Timeout(self.settings.webhook_timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def start(self) -> None:
        """Put attempts a killed process left ``sending`` back to ``pending``; start the loop."""
        async with self.db.session() as session:
            await repository.release_sending(session)
        self._loop_task = asyncio.create_task(self._loop(), name="leadsonar-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None
        client = self.__dict__.pop("client", None)  # made by cached_property, if ever
        if client is not None:
            await client.aclose()

    def wake(self) -> None:
        """A delivery was queued: look now rather than at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                claimed = await self._claim()
            except Exception:
                log.exception("webhook dispatcher could not claim deliveries")
                claimed = []
            for delivery_id in claimed:
                task = asyncio.create_task(self._attempt(delivery_id))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
            if claimed:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.job_poll_interval)
            except TimeoutError:
                pass

    async def _claim(self) -> list[int]:
        now = datetime.now(UTC)
        free = BATCH - len(self._sending)
        if free <= 0:
            return []
        # An idle poll (every job_poll_interval) only reads: no write transaction, so it
        # never holds SQLite's write lock (the hot path's inline writes, other processes).
        if not await repository.any_due(self.db, now):
            return []
        async with self.db.write_session() as session:
            return await repository.claim_due(session, now, free)

    async def _attempt(self, delivery_id: int) -> None:
        """One attempt; if it crashes before its end was written (a database error, a bug),
        the delivery goes back to ``pending`` with a retry delay and a log row instead of
        staying ``sending`` (which no later attempt would touch) until the next restart."""
        try:
            await self._post(delivery_id)
        except Exception:
            log.exception("webhook delivery %s attempt crashed", delivery_id)
            try:
                await self._release(delivery_id)
            except Exception:
                log.exception("webhook delivery %s stays 'sending' until restart", delivery_id)

    async def _release(self, delivery_id: int) -> None:
        await self._record(
            delivery_id,
            WebhookAttempt(
                attempted_at=datetime.now(UTC),
                status_code=None,
                error="LeadSonar could not make this attempt (an internal error); "
                "it will be retried.",
                seconds=0.0,
            ),
        )

    async def _record(
        self, delivery_id: int, attempt: WebhookAttempt, *, permanent: bool = False
    ) -> None:
        """Log one attempt and set the delivery's next state: ``delivered`` when it has no
        error, ``failed`` when the error is ``permanent`` or the next retry would come more
        than :data:`GIVE_UP_AFTER` after the delivery was queued, else ``pending`` at the
        retry time. Nothing is written if the delivery is gone or no longer ``sending`` (the
        attempt's end was already written)."""
        async with self.db.write_session() as session:  # read-then-write: BEGIN IMMEDIATE
            delivery = await repository.delivery(session, delivery_id)
            if delivery is None or delivery.status != "sending":
                return
            delivery.attempts += 1
            attempt.delivery_id = delivery_id
            repository.add_attempt(session, attempt)
            now = datetime.now(UTC)
            retry_at = now + timedelta(
                seconds=retry_delay(self.settings.webhook_retry_delay, delivery.attempts)
            )
            if attempt.error is None:
                delivery.status, delivery.finished_at = "delivered", now
            elif permanent or retry_at > as_utc(delivery.created_at) + GIVE_UP_AFTER:
                delivery.status, delivery.finished_at = "failed", now
            else:
                delivery.status, delivery.next_attempt_at = "pending", retry_at

    async def _post(self, delivery_id: int) -> None:
        """One POST of one delivery, then its log row and its next state."""
        async with self.db.read_session() as session:
            delivery = await repository.delivery(session, delivery_id)
            if delivery is None:
                return
            account_id = await repository.job_account(session, delivery.job_id)
            if account_id is None:
                return
            status = await job_status(session, account_id, delivery.job_id)
            url = delivery.url
            secret = await repository.stored_secret(session, account_id)
        body = status.model_dump_json().encode()
        if secret is None:  # the account's first delivery makes its secret
            async with self.db.write_session() as session:
                secret = await secret_for(session, account_id)
        started = datetime.now(UTC)
        clock = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        permanent = False
        try:
            response = await self.client.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    HEADER: sign(secret, body),
                    "LeadSonar-Event": "job.finished",
                    "LeadSonar-Delivery": str(delivery_id),
                },
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"The receiver answered HTTP {status_code}."
        except FetchRefused as exc:
            error, permanent = exc.reason[:300], True
        except FetchError as exc:
            error = exc.reason[:300]
        except httpx.TimeoutException:
            error = f"No answer within {self.settings.webhook_timeout:g} seconds."
        except httpx.HTTPError as exc:
            error = f"The connection failed ({type(exc).__name__})."
        attempt = WebhookAttempt(
            attempted_at=started,
            status_code=status_code,
            error=error,
            seconds=time.monotonic() - clock,
        )
        await self._record(delivery_id, attempt, permanent=permanent)
        if error is not None:
            log.info("webhook delivery %s attempt failed: %s", delivery_id, error)
