"""Provider quotas shared through Redis: two processes' limiters (two ProviderQuotas on one
storage) together never exceed a provider's rate."""

from __future__ import annotations

import asyncio
import time
import uuid

from leadsonar.waterfall.quotas import ProviderQuotas


async def test_two_processes_share_one_provider_rate(redis_url: str) -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    first, second = ProviderQuotas(redis_url), ProviderQuotas(redis_url)
    for quotas in (first, second):
        quotas.configure(name, "3/second", None)
    stamps: list[float] = []

    async def one(quotas: ProviderQuotas) -> None:
        async with quotas.slot(name):
            stamps.append(time.monotonic())

    await asyncio.gather(*(one(first if i % 2 else second) for i in range(9)))
    stamps.sort()
    for i in range(len(stamps) - 3):
        assert stamps[i + 3] - stamps[i] >= 0.95
