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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.config import Settings
from leadsonar.exceptions import AddressNotAllowed, BadRequest, InvalidDomain
from leadsonar.kit.net.addresses import ensure_allowed
from leadsonar.kit.net.hostnames import domain_from_website
from leadsonar.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSecret
from leadsonar.webhooks.schemas import DeliveryAttempt, DeliveryLog, DeliveryState
from leadsonar.webhooks.signing import new_secret

MAX_URL_LENGTH = 2000


def check_webhook_url(url: str, settings: Settings) -> str:
    """Validate a ``webhookUrl`` before a job is accepted.

    Returns:
        The URL as given (stripped).

    Raises:
        BadRequest: not an absolute http(s) URL, user-info present, too long, a host that is
            not a public domain name, or an IP literal outside public space and
            ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS`` (400; the job is not created).
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"webhookUrl is too long (at most {MAX_URL_LENGTH} characters).")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise BadRequest(f"webhookUrl {url!r} is not a URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise BadRequest("webhookUrl must be an absolute http:// or https:// URL.")
    if parsed.userinfo:
        raise BadRequest("webhookUrl must not carry a user name or password.")
    host = parsed.host.strip("[]")
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
    made with the old one stop verifying at once). Run in a write session."""
    row = await session.get(WebhookSecret, account_id)
    if row is None:
        row = WebhookSecret(account_id=account_id, secret=new_secret())
        session.add(row)
    elif rotate:
        row.secret = new_secret()
        row.created_at = datetime.now(UTC)
    await session.flush()
    return row.secret


async def schedule_delivery(session: AsyncSession, job_id: str, url: str | None) -> None:
    """Queue the job's notification (due now) in the transaction that ends the job; a job
    notifies once, so a second call is a no-op."""
    if not url:
        return
    existing = await session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.job_id == job_id)
    )
    if existing is None:
        session.add(
            WebhookDelivery(
                job_id=job_id, url=url, status="pending", next_attempt_at=datetime.now(UTC)
            )
        )
        await session.flush()


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def delivery_log(session: AsyncSession, job_id: str) -> DeliveryLog:
    """The answer of ``GET /enrich/{jobId}/deliveries`` (the caller checked the job belongs to
    the account): the delivery's state and every attempt, oldest first."""
    delivery = await session.scalar(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id))
    if delivery is None:
        return DeliveryLog(jobId=job_id, webhook=None, attempts=[])
    attempts = (
        await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery.id)
            .order_by(WebhookAttempt.id)
        )
    ).all()
    return DeliveryLog(
        jobId=job_id,
        webhook=DeliveryState(
            url=delivery.url,
            status=delivery.status,
            attempts=delivery.attempts,
            nextAttemptAt=_utc(delivery.next_attempt_at) if delivery.status == "pending" else None,
            finishedAt=_utc(delivery.finished_at),
        ),
        attempts=[
            DeliveryAttempt(
                at=_utc(a.attempted_at) or a.attempted_at,
                statusCode=a.status_code,
                error=a.error,
                seconds=round(a.seconds, 3),
            )
            for a in attempts
        ],
    )
