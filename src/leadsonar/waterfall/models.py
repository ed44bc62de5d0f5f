"""Stored waterfall state: answers cached per identical lookup."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from leadsonar.kit.db import Base


class LookupCache(Base):
    """One cached waterfall answer; ``key`` identifies the field, person, company and provider
    order; rows past ``expires_at`` are ignored and may be deleted."""

    __tablename__ = "lookup_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
