"""Per-provider rate windows and concurrency caps (:mod:`leadsonar.waterfall.quotas`)."""

from __future__ import annotations

import asyncio
import time

import pytest

from leadsonar.providers.base import CallContext
from leadsonar.waterfall.quotas import ProviderQuotas

pytestmark = pytest.mark.asyncio


async def test_rate_window_spaces_requests() -> None:
    quotas = ProviderQuotas()
    quotas.configure("p", "5/second", None)
    stamps: list[float] = []

    async def one() -> None:
        async with quotas.slot("p"):
            stamps.append(time.monotonic())

    began = time.monotonic()
    await asyncio.gather(*(one() for _ in range(12)))
    stamps.sort()
    # a moving window: never more than 5 starts within any second
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 0.99
    assert time.monotonic() - began >= 2.0


async def test_concurrency_cap_holds_requests_in_flight() -> None:
    quotas = ProviderQuotas()
    quotas.configure("p", None, 2)
    running = peak = 0

    async def one() -> None:
        nonlocal running, peak
        async with quotas.slot("p"):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    await asyncio.gather(*(one() for _ in range(8)))
    assert peak == 2


async def test_queueing_is_flagged_as_our_own_wait() -> None:
    quotas = ProviderQuotas()
    quotas.configure("p", "1/second", None)
    context = CallContext()
    async with quotas.slot("p", context):
        pass
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            async with quotas.slot("p", context):
                pass
    assert context.waiting is True  # the deadline came while queueing: not the provider's fault
    assert context.queued >= 0.09


async def test_unknown_provider_and_describe() -> None:
    quotas = ProviderQuotas()
    async with quotas.slot("nobody"):
        pass
    quotas.configure("p", "15/second,500/minute", 4)
    assert quotas.describe("p") == {"rate": "15 per 1 second, 500 per 1 minute", "concurrency": 4}
    with pytest.raises(ValueError):
        quotas.configure("q", "fast please", None)
