"""Body of ``GET /enrich/{jobId}/deliveries``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DeliveryAttempt(BaseModel):
    """One POST: when, the receiver's HTTP status (``null`` when none came) or why it failed,
    and how long it took (seconds)."""

    at: datetime
    statusCode: int | None
    error: str | None
    seconds: float


class DeliveryState(BaseModel):
    """``pending`` (next try at ``nextAttemptAt``), ``sending``, ``delivered`` or ``failed``."""

    url: str
    status: str
    attempts: int
    nextAttemptAt: datetime | None
    finishedAt: datetime | None


class DeliveryLog(BaseModel):
    jobId: str
    webhook: DeliveryState | None
    attempts: list[DeliveryAttempt]
