"""``GET /credits`` and ``GET /credits/usage``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.deps import WorkDep
from leadsonar.kit.openapi import errors
from leadsonar.ledger.service import balance_of
from leadsonar.ledger.usage import usage_by_day

router = APIRouter(tags=["credits"])


class CreditsAnswer(BaseModel):
    balance: int
    totalEarned: int
    totalSpent: int


@router.get("/credits", response_model=CreditsAnswer)
async def credits(
    work: WorkDep, principal: Principal = Depends(current_principal)
) -> CreditsAnswer:
    """The account's balance row (one primary-key read, never a sum over the entries);
    always ``balance == totalEarned - totalSpent``."""
    balance = await balance_of(await work.reading(), principal.account_id)
    return CreditsAnswer(
        balance=balance.balance, totalEarned=balance.total_earned, totalSpent=balance.total_spent
    )


class DayUsage(BaseModel):
    date: str
    spent: int
    refunded: int
    granted: int


class CreditsUsage(BaseModel):
    days: list[DayUsage]


@router.get("/credits/usage", response_model=CreditsUsage, responses=errors(400))
async def credits_usage(
    work: WorkDep,
    days: Annotated[int, Query(ge=1, le=366, description="Days back, today included.")] = 30,
    principal: Principal = Depends(current_principal),
) -> CreditsUsage:
    """Credits spent, refunded and granted per UTC day, oldest first, zeros included."""
    rows = await usage_by_day(await work.reading(), principal.account_id, days)
    return CreditsUsage(days=[DayUsage.model_validate(row) for row in rows])
