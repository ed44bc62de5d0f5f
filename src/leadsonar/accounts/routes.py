"""The account and its API keys: ``GET /account``, ``GET /keys``, ``POST /keys``,
``DELETE /keys/{prefix}``.

A key is shown in full once, in the answer that creates it; afterwards only its display prefix
(``ls_live_`` and 8 characters) exists anywhere but in the holder's hands.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from leadsonar.accounts import service
from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.deps import ServicesDep, WorkDep
from leadsonar.kit.crypto import display_prefix
from leadsonar.kit.db import as_utc
from leadsonar.kit.openapi import errors

router = APIRouter(tags=["keys"])


class AccountInfo(BaseModel):
    name: str
    keyPrefix: str
    createdAt: datetime | None


class KeyInfo(BaseModel):
    prefix: str
    createdAt: datetime | None
    revokedAt: datetime | None
    active: bool
    current: bool


class KeyList(BaseModel):
    keys: list[KeyInfo]


class KeyCreated(BaseModel):
    key: str
    prefix: str
    message: str


class KeysRevoked(BaseModel):
    prefix: str
    revoked: int


@router.get("/account", response_model=AccountInfo, tags=["account"])
async def account(work: WorkDep, principal: Principal = Depends(current_principal)) -> AccountInfo:
    """Who the key belongs to: the account's name and the key's display prefix (what the
    dashboard shows after signing in)."""
    row = await service.get_account(await work.reading(), principal.account_id)
    return AccountInfo(
        name=row.name, keyPrefix=principal.key_prefix, createdAt=as_utc(row.created_at)
    )


@router.get("/keys", response_model=KeyList)
async def list_keys(work: WorkDep, principal: Principal = Depends(current_principal)) -> KeyList:
    """The account's keys by display prefix, newest first; ``current`` marks the key making
    this request. Full keys are never shown here."""
    rows = await service.list_keys(await work.reading(), principal.account_id)
    return KeyList(
        keys=[
            KeyInfo(
                prefix=row.prefix,
                createdAt=as_utc(row.created_at),
                revokedAt=as_utc(row.revoked_at),
                active=row.revoked_at is None,
                current=row.key_hash == principal.key_hash,
            )
            for row in rows
        ]
    )


@router.post("/keys", response_model=KeyCreated, status_code=201)
async def create_key(
    work: WorkDep, services: ServicesDep, principal: Principal = Depends(current_principal)
) -> JSONResponse:
    """Create another key for the account. The answer is the only time the full key is shown."""
    session = await work.writing()
    account = await service.get_account(session, principal.account_id)
    key = await service.create_key(session, account, services.secret)
    body = KeyCreated(
        key=key,
        prefix=display_prefix(key),
        message="Keep this key now: it is shown only once.",
    )
    return JSONResponse(body.model_dump(), status_code=201, headers={"Cache-Control": "no-store"})


@router.delete("/keys/{prefix}", response_model=KeysRevoked, responses=errors(400, 404))
async def revoke_key(
    prefix: str,
    work: WorkDep,
    services: ServicesDep,
    principal: Principal = Depends(current_principal),
) -> KeysRevoked:
    """Revoke the account's key with this display prefix (``ls_live_`` and 8 characters).
    Requests with it are refused (401) from now on (by other API processes within
    ``LEADSONAR_AUTH_CACHE_TTL`` seconds). The last active key cannot be revoked."""
    count = await service.revoke_account_key(await work.writing(), principal.account_id, prefix)
    # once committed, this process stops accepting the key at once
    work.after_commit(services.principals.clear)
    return KeysRevoked(prefix=prefix[:16], revoked=count)
