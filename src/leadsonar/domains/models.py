"""What LeadSonar knows about domains and people: imported contacts and learned patterns.

Imported contacts belong to one account (tenant data). Everything learned about domains —
patterns, MX and catch-all facts, company → domain — is shared knowledge of the installation.
"""

from __future__ import annotations

from datetime import datetime
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


class KnownContact(Base):
    """A contact an account imported (``leadsonar import --account NAME``): the ``known``
    provider's data, served to that account only.

    ``contact_key`` identifies the row within the account so that importing it again updates it:
    ``email:<address>`` when the row has an address (namesakes with different addresses stay two
    contacts), else ``name:<name_key>@<domain or company>``.
    """

    __tablename__ = "known_contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "contact_key", name="uq_known_contacts_account_key"),
        # an account's contact by name (and domain): find_contact, count_namesakes
        Index("ix_known_contacts_account_name", "account_id", "name_key", "domain"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE", name="fk_known_contacts_account_id_accounts"),
        index=True,
    )
    contact_key: Mapped[str] = mapped_column(String(800))
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


class LearnedAddress(Base):
    """An address whose pattern evidence was counted (SHA-256 of the lower-case address, so the
    shared table holds no tenant's addresses): each address teaches its domain once, however
    often it is imported, found or published."""

    __tablename__ = "learned_addresses"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    learned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DomainFacts(Base):
    """What the prober and crawler learned about one domain, each part with its own age.

    Attributes:
        mx_hosts: ``[[preference, host], …]`` as last resolved, or ``None`` before the first look.
        mx_provider: the recognised mail host (``google``, ``microsoft``, ``proofpoint`` …).
        null_mx: the domain publishes RFC 7505 null MX (takes no mail).
        catch_all: the mail server accepts any address (``None`` = not known yet).
        blocked_until: the prober was refused by policy; do not knock again before this time.
        crawl: the website crawl's findings (JSON), ``crawled_at`` when made.
    """

    __tablename__ = "domain_facts"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    mx_hosts: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    mx_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    null_mx: Mapped[bool] = mapped_column(Boolean, default=False)
    mx_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    catch_all: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    catch_all_checked_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    blocked_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    crawl: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    crawled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CompanyDomain(Base):
    """A company name and its domain: imported (``leadsonar import``) or resolved and checked."""

    __tablename__ = "company_domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
