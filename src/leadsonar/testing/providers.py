"""A scripted in-process provider: the test fake of the provider protocol (CONVENTIONS habit 5).

::

    paid = ScriptedProvider("paid", cost=1.0, email=[finding, None, ProviderThrottled(…)])
    registry = ProviderRegistry({"paid": paid}, {"email": ["paid"], "phone": []})

Each call takes the next scripted outcome (the last one repeats): a :class:`Finding` (answered),
``None`` (not found), an exception (raised), or a :class:`Pause` (sleep, then the next outcome).
``calls`` counts calls per field; ``spent`` reports provider-side credits per answer through the
lookup context (``ctx.spend``), as HTTP adapters do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    Verification,
)


@dataclass(frozen=True)
class Pause:
    """Sleep ``seconds`` before the next outcome (a slow provider)."""

    seconds: float


Outcome = Finding | None | BaseException | Pause


def found(
    value: str,
    confidence: Confidence = Confidence.MEDIUM,
    verification: Verification = Verification.VALID,
) -> Finding:
    """A finding to script."""
    return Finding(value=value, confidence=confidence, verification=verification)


class ScriptedProvider:
    """A provider answering from scripts per field.

    Args:
        name: registry name.
        cost: provider credits per answered call (0: free).
        email: outcomes for ``find_email`` calls, in order.
        phone: outcomes for ``find_phone`` calls, in order.
        kind: ``builtin`` or ``http``.
        detail: a ``status_detail`` (e.g. ``missing LEADSONAR_X_API_KEY``) to look unconfigured.
    """

    def __init__(
        self,
        name: str,
        *,
        cost: float = 0.0,
        email: Sequence[Outcome] = (None,),
        phone: Sequence[Outcome] = (None,),
        kind: str = "http",
        detail: str | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.cost = cost
        self.fields = frozenset(f for f, s in (("email", email), ("phone", phone)) if s)
        self.scripts = {"email": list(email), "phone": list(phone)}
        self.calls = {"email": 0, "phone": 0}
        self.detail = detail

    async def _next(self, fld: str, ctx: LookupContext) -> Finding | None:
        script = self.scripts[fld]
        outcome = script[min(self.calls[fld], len(script) - 1)]
        self.calls[fld] += 1
        while isinstance(outcome, Pause):
            await asyncio.sleep(outcome.seconds)
            script = script[script.index(outcome) + 1 :] or [None]
            outcome = script[0]
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is None:
            return None
        ctx.spend(self.cost)
        return Finding(
            value=outcome.value,
            confidence=outcome.confidence,
            verification=outcome.verification,
            provider=self.name,
            kind=outcome.kind,
            evidence=dict(outcome.evidence),
            independent=outcome.independent,
        )

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return await self._next("email", ctx)

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return await self._next("phone", ctx)

    def status_detail(self) -> str | None:
        return self.detail
