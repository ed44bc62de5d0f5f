"""Webhook secrets, the check of a ``webhookUrl`` when a job is accepted, scheduling a
delivery when a job ends, and the delivery log.

A webhook URL is a value users type, so it obeys the crawler's address rules (DESIGN.md §5):
``http``/``https`` only, no user-info, a public domain name or a public IP literal; the name is
resolved when the delivery is made and every address is checked then
(:class:`~leadsonar.kit.net.safe_http.PinnedTransport`), so private, loopback and link-local
targets are refused unless ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS`` allows them.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.config import Settings
from leadsonar.exceptions import AddressNotAllowed, BadRequest, InvalidDomain
from leadsonar.kit.db import as_utc
from leadsonar.kit.net.addresses import ensure_allowed
from leadsonar.kit.net.hostnames import domain_from_website
from leadsonar.webhooks import repository
from leadsonar.webhooks.models import WebhookDelivery
from leadsonar.webhooks.schemas import DeliveryAttempt, DeliveryLog, DeliveryState
from leadsonar.webhooks.signing import new_secret

MAX_URL_LENGTH = 2000
# Ports a webhook receiver may listen on below the unprivileged range: the web's own. Lower
# ports are other protocols' services (SMTP 25, SSH 22, LDAP 389, …) that an HTTP POST with a
# body the account chose must not reach (the same reason browsers block them: the Fetch
# standard's "bad port" list).
WEB_PORTS = (80, 443)
FIRST_UNPRIVILEGED_PORT = 1024


def check_webhook_url(url: str, settings: Settings) -> str:
    """Validate a ``webhookUrl`` before a job is accepted.

    Returns:
        The URL as given (stripped).

    Raises:
        BadRequest: not an absolute http(s) URL, user-info present, too long, a port below
            1024 other than 80 and 443, a host that is not a public domain name, or an IP
            literal outside public space and ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS`` (400; the
            job is not created).
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"webhookUrl is too long (at most {MAX_URL_LENGTH} characters).")
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decodes IDNA: a malformed A-label ("xn--") raises here
    except (httpx.InvalidURL, TypeError, ValueError):  # idna.IDNAError is a ValueError
        raise BadRequest(f"webhookUrl {url[:200]!r} is not a URL.") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise BadRequest("webhookUrl must be an absolute http:// or https:// URL.")
    if parsed.userinfo:
        raise BadRequest("webhookUrl must not carry a user name or password.")
    port = parsed.port
    if port is not None and port < FIRST_UNPRIVILEGED_PORT and port not in WEB_PORTS:
        raise BadRequest(
            f"webhookUrl port {port} is refused: a receiver listens on 80, 443 or a port from "
            f"{FIRST_UNPRIVILEGED_PORT} up."
        )
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass  # a name: checked below, its addresses at delivery time
    else:
        try:
            ensure_allowed(host, settings.allowed_private_networks)
        except AddressNotAllowed as error:
            raise BadRequest(f"webhookUrl: {error.message}") from None
        return url
    try:
        domain_from_website(
            host, allow_reserved=bool(settings.allowed_private_networks), strip_www=False
        )
    except InvalidDomain as error:
        raise BadRequest(f"webhookUrl: {error.message}") from None
    return url


async def secret_for(session: AsyncSession, account_id: int, *, rotate: bool = False) -> str:
    """The account's webhook secret, made on first use; ``rotate`` replaces it (signatures
    made with the old one stop verifying at once). Run in a write session.

    Made by ``INSERT … ON CONFLICT DO NOTHING`` so that deliveries asking at the same moment
    (the dispatcher attempts up to :data:`~leadsonar.webhooks.delivery.BATCH` at once) all get
    the one secret instead of colliding on the primary key.
    """
    now = datetime.now(UTC)
    return await repository.store_secret(session, account_id, new_secret(), now, replace=rotate)


async def schedule_delivery(session: AsyncSession, job_id: str, url: str | None) -> None:
    """Queue the job's notification (due now) in the transaction that ends the job; a job
    notifies once, so a second call is a no-op."""
    if not url:
        return
    if not await repository.has_delivery(session, job_id):
        session.add(
            WebhookDelivery(
                job_id=job_id, url=url, status="pending", next_attempt_at=datetime.now(UTC)
            )
        )
        await session.flush()


async def delivery_log(session: AsyncSession, job_id: str) -> DeliveryLog:
    """The answer of ``GET /enrich/{jobId}/deliveries`` (the caller checked the job belongs to
    the account): the delivery's state and every attempt, oldest first."""
    delivery = await repository.delivery_of(session, job_id)
    if delivery is None:
        return DeliveryLog(jobId=job_id, webhook=None, attempts=[])
    attempts = await repository.attempts_of(session, delivery.id)
    return DeliveryLog(
        jobId=job_id,
        webhook=DeliveryState(
            url=delivery.url,
            status=delivery.status,
            attempts=delivery.attempts,
            nextAttemptAt=as_utc(delivery.next_attempt_at)
            if delivery.status == "pending"
            else None,
            finishedAt=as_utc(delivery.finished_at),
        ),
        attempts=[
            DeliveryAttempt(
                at=as_utc(a.attempted_at) or a.attempted_at,
                statusCode=a.status_code,
                error=a.error,
                seconds=round(a.seconds, 3),
            )
            for a in attempts
        ],
    )
