"""Provider rate limits shared through Redis: how busy two worker processes keep a provider
limited to R/second, and whether it ever sees more than R in a second.

Two ``leadsonar.testing.bookworker`` processes (each four requests at once, as a worker's
lookups would) send requests through one provider bucket limited to ``R/second`` in Redis, to
a loopback stand-in that timestamps arrivals. Reported per R: the combined rate the stand-in saw
(calls ÷ seconds between its first and last arrival) as a share of R — the goal is ≥ 0.9 — and
the most calls it saw in any sliding 1-second window (must be ≤ R).

Needs Redis at ``LEADSONAR_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``).
Run: ``./run bench provider_rate`` (``--quick`` for R = 5 only). Results:
``bench/results/provider_rate.json``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

from bench.common import save
from leadsonar.testing.providerapi import ProviderApi, Reply

REDIS_URL = os.environ.get("LEADSONAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PATH = "/v1/find"
WORKERS = 2
SECONDS = 12  # of traffic per rate


async def run_rate(rate: int) -> dict[str, Any]:
    """Two worker processes against one provider limited to ``rate``/second."""
    name = f"bench-rate-{uuid.uuid4().hex[:8]}"
    each = rate * SECONDS // WORKERS
    async with ProviderApi() as api:
        api.on("GET", PATH, Reply({"ok": True}))
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "leadsonar.testing.bookworker",
                REDIS_URL,
                "calls",
                name,
                "--url",
                api.url + PATH,
                "--rate",
                f"{rate}/second",
                "--calls",
                str(each),
                "--concurrency",
                "4",
                stdout=asyncio.subprocess.DEVNULL,
            )
            for _ in range(WORKERS)
        ]
        for worker in workers:
            await worker.wait()
    arrivals = sorted(call.at for call in api.matching("GET", PATH))
    span = arrivals[-1] - arrivals[0]
    combined = (len(arrivals) - 1) / span if span > 0 else 0.0
    return {
        "rateLimit": rate,
        "workers": WORKERS,
        "calls": len(arrivals),
        "seconds": round(span, 2),
        "combinedPerSecond": round(combined, 2),
        "ofLimit": round(combined / rate, 3),
        "providerMaxPerSecond": api.max_per_second(PATH, window=1.0),
        "loadAverage": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str]) -> None:
    rates = [5] if "--quick" in argv else [5, 20]
    runs = [asyncio.run(run_rate(rate)) for rate in rates]
    for run in runs:
        print(
            f"R={run['rateLimit']}/s, {run['workers']} worker processes: "
            f"{run['combinedPerSecond']}/s = {run['ofLimit']} x R; "
            f"provider saw at most {run['providerMaxPerSecond']} in any second "
            f"(load average {run['loadAverage']})"
        )
    print(f"saved {save('provider_rate', {'runs': runs})}")
