"""Account and API-key queries (DESIGN.md §2a: queries live in repositories; the edge commits).

Every function runs in the session it is given and only flushes, except :func:`read_active_key`,
the authentication read of a key missing from the key cache, which is a read of its own (never
committed) so that it runs before the request's unit of work begins.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.accounts.models import Account, ApiKey, AppMeta
from leadsonar.kit.db import Database

FIRST_LOCK = 0x4C_53_66_69_72_73_74  # pg_advisory_xact_lock key of the first account ("LSfirst")

# Built once: every authenticated request whose key the key cache does not know runs it.
_ACTIVE_KEY = select(ApiKey.account_id, ApiKey.prefix).where(
    ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None)
)


async def meta(session: AsyncSession, key: str) -> AppMeta | None:
    """The ``app_meta`` row ``key``, or None."""
    return await session.get(AppMeta, key)


async def account_by_id(session: AsyncSession, account_id: int) -> Account | None:
    """The account ``account_id`` (from the session's identity map when loaded), or None."""
    return await session.get(Account, account_id)


async def account_by_name(session: AsyncSession, name: str) -> Account | None:
    """The account named exactly ``name``, or None."""
    return await session.scalar(select(Account).where(Account.name == name))


async def account_id_named(session: AsyncSession, name: str) -> int | None:
    """The id of the account named exactly ``name`` (no row loaded), or None."""
    return await session.scalar(select(Account.id).where(Account.name == name))


async def account_ids(session: AsyncSession) -> Sequence[int]:
    """Every account's id."""
    return (await session.scalars(select(Account.id))).all()


async def accounts_by_name(session: AsyncSession) -> Sequence[Account]:
    """Every account, in name order."""
    return (await session.scalars(select(Account).order_by(Account.name))).all()


async def active_key(session: AsyncSession, digest: str) -> tuple[int, str] | None:
    """``(account_id, display prefix)`` of the active (not revoked) key whose HMAC is
    ``digest``, or None."""
    row = (await session.execute(_ACTIVE_KEY, {"digest": digest})).first()
    return None if row is None else (row.account_id, row.prefix)


async def read_active_key(db: Database, digest: str) -> tuple[int, str] | None:
    """:func:`active_key` in a read of its own (SQLite: no ``BEGIN``; PostgreSQL: autocommit),
    never committed."""
    async with db.read_session() as session:
        return await active_key(session, digest)


async def active_prefixes(session: AsyncSession, account_id: int) -> list[str]:
    """Display prefixes of the account's active keys."""
    rows = await session.scalars(
        select(ApiKey.prefix).where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
    )
    return list(rows.all())


async def active_keys_with_prefix(session: AsyncSession, prefix: str) -> Sequence[ApiKey]:
    """Every account's active keys whose display prefix starts with ``prefix`` (``LIKE`` with
    its wildcards escaped). Nothing is locked."""
    rows = await session.scalars(
        select(ApiKey).where(
            ApiKey.prefix.startswith(prefix, autoescape=True), ApiKey.revoked_at.is_(None)
        )
    )
    return rows.all()


async def keys_of(session: AsyncSession, account_id: int) -> list[ApiKey]:
    """The account's keys, active and revoked, newest first."""
    rows = await session.scalars(
        select(ApiKey)
        .where(ApiKey.account_id == account_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return list(rows.all())


async def lock_active_keys(session: AsyncSession, account_id: int) -> Sequence[ApiKey]:
    """The account's active keys in id order, row-locked (``FOR UPDATE`` on PostgreSQL; on
    SQLite the caller's write session is ``BEGIN IMMEDIATE``) until the transaction ends, so
    two revocations at once cannot both count the same keys as active."""
    rows = await session.scalars(
        select(ApiKey)
        .where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id)
        .with_for_update()
    )
    return rows.all()


async def lock_first_account(session: AsyncSession) -> None:
    """PostgreSQL only: take the first-account advisory lock (``pg_advisory_xact_lock``, held
    until the caller's transaction ends), so that API processes starting together create the
    ``default`` account once. SQLite needs none: its write session is ``BEGIN IMMEDIATE``."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_LOCK})
