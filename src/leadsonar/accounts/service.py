"""Accounts and API keys: create, authenticate, revoke.

Keys are shown once when created; the database keeps only ``hash_api_key(key, secret)`` and a
short display prefix (``ls_live_ab12cd34``) so an operator can revoke by prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.accounts import repository
from leadsonar.accounts.keycache import PrincipalCache
from leadsonar.accounts.models import Account, ApiKey, AppMeta
from leadsonar.exceptions import BadRequest, InvalidApiKey, NotFound
from leadsonar.kit.crypto import (
    DISPLAY_PREFIX_LENGTH,
    display_prefix,
    generate_api_key,
    generate_secret,
    hash_api_key,
)
from leadsonar.kit.db import Database

SECRET_META_KEY = "api_key_hmac_secret"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account and the key's display prefix (never the key itself)."""

    account_id: int
    key_prefix: str
    key_hash: str


async def load_or_create_secret(session: AsyncSession, configured: str | None) -> bytes:
    """The HMAC secret for key hashes: ``LEADSONAR_SECRET_KEY`` when set, otherwise one generated
    on first start and kept in ``app_meta``."""
    if configured:
        return configured.encode("utf-8")
    row = await repository.meta(session, SECRET_META_KEY)
    if row is None:
        row = AppMeta(key=SECRET_META_KEY, value=generate_secret())
        session.add(row)
        await session.flush()
    return row.value.encode("utf-8")


async def get_account(session: AsyncSession, account_id: int) -> Account:
    """The account ``account_id`` (a key's principal names one that exists).

    Raises:
        LookupError: no such account (its key was authenticated, so it was deleted since).
    """
    row = await repository.account_by_id(session, account_id)
    if row is None:
        raise LookupError(f"account {account_id} does not exist")
    return row


async def get_account_by_name(session: AsyncSession, name: str) -> Account:
    account = await repository.account_by_name(session, name)
    if account is None:
        raise NotFound(f"No account named {name!r}.")
    return account


async def create_account(session: AsyncSession, name: str) -> Account:
    """Create an account; raises :class:`BadRequest` when the name is empty or taken."""
    name = name.strip()
    if not name:
        raise BadRequest("An account needs a name.")
    if await repository.account_id_named(session, name) is not None:
        raise BadRequest(f"An account named {name!r} already exists.")
    account = Account(name=name)
    session.add(account)
    await session.flush()
    return account


async def create_key(session: AsyncSession, account: Account, secret: bytes) -> str:
    """Make a new API key for ``account``; returns the key in clear (the only time it exists)."""
    key = generate_api_key()
    session.add(
        ApiKey(
            account_id=account.id, prefix=display_prefix(key), key_hash=hash_api_key(key, secret)
        )
    )
    await session.flush()
    return key


async def authenticate(session: AsyncSession, key: str, secret: bytes) -> Principal:
    """The principal for ``key``.

    Raises:
        InvalidApiKey: unknown or revoked key (the same sentence for both).
    """
    digest = hash_api_key(key, secret)
    return _principal(digest, await repository.active_key(session, digest))


def _principal(digest: str, row: tuple[int, str] | None) -> Principal:
    if row is None:
        raise InvalidApiKey("Invalid or revoked API key.")
    account_id, prefix = row
    return Principal(account_id=account_id, key_prefix=prefix, key_hash=digest)


async def authenticate_key(
    db: Database, key: str, secret: bytes, principals: PrincipalCache | None = None
) -> Principal:
    """The principal for ``key``, from ``principals`` when it remembers the key's digest,
    otherwise from the database (one read, never committed), then remembered.

    Raises:
        InvalidApiKey: unknown or revoked key (never remembered).
    """
    digest = hash_api_key(key, secret)
    if principals is not None:
        found = principals.get(digest)
        if found is not None:
            return found
    principal = _principal(digest, await repository.read_active_key(db, digest))
    if principals is not None:
        principals.put(principal)
    return principal


async def revoke_keys(session: AsyncSession, prefix: str) -> int:
    """Revoke every active key whose display prefix starts with ``prefix``; returns how many.

    Raises:
        BadRequest: the prefix is shorter than ``ls_live_`` plus 4 characters (too broad).
    """
    if len(prefix) < len("ls_live_") + 4:
        raise BadRequest("Give at least the first 12 characters of the key (ls_live_ and 4 more).")
    rows = await repository.active_keys_with_prefix(session, prefix[:DISPLAY_PREFIX_LENGTH])
    now = datetime.now(UTC)
    for row in rows:
        row.revoked_at = now
    await session.flush()
    return len(rows)


async def count_accounts(session: AsyncSession) -> int:
    return len(await repository.account_ids(session))


async def list_accounts(session: AsyncSession) -> list[tuple[str, int, list[str]]]:
    """Every account as ``(name, balance in credits, active key display prefixes)``."""
    from leadsonar.ledger.service import balance_of

    rows = []
    for account in await repository.accounts_by_name(session):
        prefixes = await repository.active_prefixes(session, account.id)
        balance = await balance_of(session, account.id)
        rows.append((account.name, balance.balance, prefixes))
    return rows


async def list_keys(session: AsyncSession, account_id: int) -> list[ApiKey]:
    """The account's keys (active and revoked), newest first; rows hold no key, only its
    display prefix and hash."""
    return await repository.keys_of(session, account_id)


async def revoke_account_key(session: AsyncSession, account_id: int, prefix: str) -> int:
    """Revoke the account's active keys whose display prefix is ``prefix`` (``DELETE
    /keys/{prefix}``); another account's keys are never touched. Run in a write session.

    Returns:
        How many keys were revoked (at least 1).

    Raises:
        NotFound: no active key of this account has that prefix (404).
        BadRequest: it would revoke the account's last active key (the account would be
            locked out; create another key first).
    """
    # Lock the account's active keys (PostgreSQL; SQLite's write session is BEGIN IMMEDIATE):
    # two revocations at once would otherwise both count "2 active" and revoke both.
    active = await repository.lock_active_keys(session, account_id)
    matching = [row for row in active if row.prefix == prefix[:DISPLAY_PREFIX_LENGTH]]
    if len(prefix) < DISPLAY_PREFIX_LENGTH or not matching:
        raise NotFound(f"No active key of this account has the prefix {prefix[:40]!r}.")
    if len(matching) == len(active):
        raise BadRequest(
            "That is the account's last active key; create another key before revoking it."
        )
    now = datetime.now(UTC)
    for row in matching:
        row.revoked_at = now
    await session.flush()
    return len(matching)
