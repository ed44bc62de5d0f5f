"""Provider books shared through Redis by separate processes (``LEADSONAR_RATE_LIMIT_STORAGE=
redis://…``): the circuit breaker, the concurrency cap (with leases a killed process cannot keep)
and the rate windows — two worker processes against one stand-in provider never send it more
than its limit in any second, counted where the provider counts: at the stand-in."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid

import pytest

from leadsonar.providers.book import CallRecord, ProviderBooks
from leadsonar.providers.health import BreakerState, HealthPolicy
from leadsonar.testing.providerapi import Call, ProviderApi, Reply

pytestmark = pytest.mark.asyncio

PATH = "/v1/find"


async def _worker(redis_url: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "leadsonar.testing.bookworker",
        redis_url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def _result(process: asyncio.subprocess.Process) -> dict[str, object]:
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def test_two_processes_share_the_circuit_breaker(redis_url: str) -> None:
    name = f"breaker-{uuid.uuid4().hex[:8]}"
    options = ["--threshold", "3", "--reset", "4"]
    other = await _result(await _worker(redis_url, "fail", name, "--calls", "3", *options))
    assert other == {"gate": "circuit open", "breaker": "open"}  # opened in another process
    policy = HealthPolicy(failure_threshold=3, reset_timeout=4, probe_lease=60)
    books = ProviderBooks(redis_url, policy)
    try:
        book = books.register(name, "http")
        view = await book.health.view()
        assert view.breaker is not BreakerState.CLOSED  # this process never saw a failure
        if view.breaker is BreakerState.OPEN:
            assert await book.gate() == "circuit open"
            await asyncio.sleep(view.reopen_in + 0.05)  # the open period, on Redis's clock
        assert (await book.health.view()).breaker is BreakerState.HALF_OPEN
        assert await book.gate() is None  # the one half-open probe, taken here …
        other = await _result(await _worker(redis_url, "fail", name, "--calls", "0", *options))
        assert other == {"gate": "circuit open", "breaker": "half_open"}  # … so not there
        await book.record(CallRecord("email", 0.1, found=True))  # the probe answered
        other = await _result(await _worker(redis_url, "fail", name, "--calls", "0", *options))
        assert other == {"gate": None, "breaker": "closed"}  # the probe's success closed it
    finally:
        await books.aclose()


async def test_two_processes_share_the_concurrency_cap(redis_url: str) -> None:
    name = f"cap-{uuid.uuid4().hex[:8]}"
    in_flight = peak = 0

    async def slow(call: Call) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.1)
        in_flight -= 1
        return Reply({"ok": True})

    async with ProviderApi() as api:
        api.on("GET", PATH, slow)
        options = ["--url", api.url + PATH, "--cap", "2", "--calls", "10", "--concurrency", "4"]
        workers = [await _worker(redis_url, "calls", name, *options) for _ in range(2)]
        results = [await _result(w) for w in workers]
    assert [r["sent"] for r in results] == [10, 10]
    assert api.count("GET", PATH) == 20
    assert peak <= 2  # 8 lanes in two processes, never more than the cap at the provider


async def test_a_killed_process_does_not_keep_its_slots(redis_url: str) -> None:
    name = f"lease-{uuid.uuid4().hex[:8]}"
    holder = await _worker(redis_url, "hold", name, "--cap", "2", "--lease", "2")
    assert holder.stdout is not None
    line = await asyncio.wait_for(holder.stdout.readline(), 60)
    assert json.loads(line) == {"holding": 2}
    books = ProviderBooks(redis_url, lease=2)
    books.configure(name, None, 2)
    try:
        with pytest.raises(TimeoutError):  # both slots are held by the other process
            async with asyncio.timeout(0.5):
                async with books.slot(name):
                    pass
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
        async with asyncio.timeout(30):  # its leases run out: both slots come back
            async with books.slot(name), books.slot(name):
                pass
    finally:
        if holder.returncode is None:
            holder.kill()
        await books.aclose()


async def test_two_worker_processes_never_exceed_the_providers_rate(redis_url: str) -> None:
    name = f"rate-{uuid.uuid4().hex[:8]}"
    rate, each = 5, 15
    async with ProviderApi() as api:
        api.on("GET", PATH, Reply({"ok": True}))
        options = ["--url", api.url + PATH, "--rate", f"{rate}/second"]
        options += ["--calls", str(each), "--concurrency", "4"]
        workers = [await _worker(redis_url, "calls", name, *options) for _ in range(2)]
        results = [await _result(w) for w in workers]
    assert [r["sent"] for r in results] == [each, each]
    assert api.count("GET", PATH) == 2 * each
    # Counted at the provider, in every 1-second window (sliding): never more than the limit.
    assert api.max_per_second(PATH, window=1.0) <= rate
