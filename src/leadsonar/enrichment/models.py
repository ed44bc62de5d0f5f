"""Bulk enrichment jobs: a job row and one item row per contact, in input order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from leadsonar.kit.db import Base


class JobState(StrEnum):
    """A bulk job's status (the ``status`` column and the API's ``status``)."""

    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"  # every worked row ended in an error
    CANCELLED = "cancelled"


class ItemState(StrEnum):
    """A job row's status: ``pending`` → ``running`` → ``done``; ``waiting`` for a repeat of an
    earlier row of the job (answered with it, never looked up or charged itself);
    ``cancelled``."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    DONE = "done"
    CANCELLED = "cancelled"


class EnrichmentJob(Base):
    __tablename__ = "enrichment_jobs"
    # The job list: an account's jobs newest first.
    __table_args__ = (Index("ix_enrichment_jobs_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobState.PROCESSING, index=True)
    total: Mapped[int] = mapped_column(Integer)
    find_email: Mapped[bool] = mapped_column(Boolean)
    find_phone: Mapped[bool] = mapped_column(Boolean)
    # ``enrich`` (find emails/phones) or ``verify`` (check the addresses of an Email column).
    kind: Mapped[str] = mapped_column(String(16), default="enrich", server_default="enrich")
    # Where the job came from: ``api`` (POST /enrich), ``file`` (an upload), ``dashboard``.
    source: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The input's column names, in order, for results.csv (input columns first).
    input_columns: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EnrichmentItem(Base):
    __tablename__ = "enrichment_items"
    __table_args__ = (UniqueConstraint("job_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("enrichment_jobs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(300))
    company_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # an ItemState value
    status: Mapped[str] = mapped_column(String(16), default=ItemState.PENDING, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    input_cells: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    company_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    confidence: Mapped[str | None] = mapped_column(String(8), nullable=True)
    sources: Mapped[int] = mapped_column(Integer, default=0)
    email_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    phone_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    phone_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    smtp_connections: Mapped[int] = mapped_column(Integer, default=0)
    smtp_rcpts: Mapped[int] = mapped_column(Integer, default=0)
    email_verification: Mapped[str | None] = mapped_column(String(16), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
