"""``GET /credits``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.ledger.service import balance_of

router = APIRouter(tags=["credits"])


class CreditsAnswer(BaseModel):
    balance: int
    totalEarned: int
    totalSpent: int


@router.get("/credits", response_model=CreditsAnswer)
async def credits(
    request: Request, principal: Principal = Depends(current_principal)
) -> CreditsAnswer:
    """The account's balance row (one primary-key read, never a sum over the entries);
    always ``balance == totalEarned - totalSpent``."""
    async with request.app.state.services.db.read_session() as session:
        balance = await balance_of(session, principal.account_id)
    return CreditsAnswer(
        balance=balance.balance, totalEarned=balance.total_earned, totalSpent=balance.total_spent
    )
