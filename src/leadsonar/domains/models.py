"""What LeadSonar knows about domains and people: imported contacts and learned patterns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from leadsonar.kit.db import Base


class KnownContact(Base):
    """A contact the user imported (``leadsonar import``): the ``known`` provider's data."""

    __tablename__ = "known_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    domain: Mapped[str | None] = mapped_column(String(253), index=True, nullable=True)
    company: Mapped[str | None] = mapped_column(String(300), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DomainPattern(Base):
    """How often an address pattern (``first.last``, ``flast`` …) was seen at a domain.

    ``evidence`` counts addresses seen (imported, verified, published); ``last_seen_at`` lets
    old evidence expire (the TTL is applied when reading).
    """

    __tablename__ = "domain_patterns"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    pattern: Mapped[str] = mapped_column(String(32), primary_key=True)
    evidence: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
