"""Suppressed addresses and domains."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from leadsonar.kit.db import Base

EVERYONE = 0
"""``account_id`` of an installation-wide suppression (the CLI's, and every erasure)."""


class Suppression(Base):
    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("account_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)  # 0: everyone
    kind: Mapped[str] = mapped_column(String(8))  # email | domain
    value: Mapped[str] = mapped_column(String(320), index=True)
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
