"""A worker process for tests of provider books shared through Redis.

Run as ``python -m leadsonar.testing.bookworker STORAGE MODE NAME [options]``; it prints one
JSON line when done. Modes:

- ``calls``: send ``--calls`` GET requests to ``--url`` through the provider's quota slot
  (``--rate`` in ``limits`` syntax, ``--cap`` requests in flight), ``--concurrency`` at once —
  what N worker processes asking one provider do.
- ``fail``: record ``--calls`` failed calls of the provider in its book (its breaker opens at
  ``--threshold`` consecutive failures, for ``--reset`` seconds), then print the gate's answer.
- ``hold``: take ``--cap`` concurrency slots of ``--cap`` and sleep until killed (a worker
  killed mid-request: its leases of ``--lease`` seconds must run out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import AsyncExitStack

import httpx

from leadsonar.providers.base import ProviderUnavailable
from leadsonar.providers.book import CallRecord, ProviderBooks
from leadsonar.providers.health import HealthPolicy


async def _calls(books: ProviderBooks, args: argparse.Namespace) -> dict[str, object]:
    books.configure(args.name, args.rate or None, args.cap)
    sent = 0
    async with httpx.AsyncClient(timeout=30) as client:

        async def one() -> None:
            nonlocal sent
            async with books.slot(args.name) as turn:  # as HttpProvider.request does
                await client.get(args.url, extensions=turn.extensions if turn else None)
                sent += 1

        queue = list(range(args.calls))

        async def lane() -> None:
            while queue:
                queue.pop()
                await one()

        await asyncio.gather(*(lane() for _ in range(args.concurrency)))
    return {"sent": sent}


async def _fail(books: ProviderBooks, args: argparse.Namespace) -> dict[str, object]:
    book = books.register(args.name, "http")
    for _ in range(args.calls):
        await book.record(CallRecord("email", 0.01, error=ProviderUnavailable("down")))
    view = await book.health.view()
    return {"gate": await book.gate(), "breaker": view.breaker.value}


async def _hold(books: ProviderBooks, args: argparse.Namespace) -> dict[str, object]:
    books.configure(args.name, None, args.cap)
    async with AsyncExitStack() as stack:
        for _ in range(args.cap):
            await stack.enter_async_context(books.slot(args.name))
        print(json.dumps({"holding": args.cap}), flush=True)
        await asyncio.sleep(3600)
    return {}


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bookworker")
    parser.add_argument("storage")
    parser.add_argument("mode", choices=["calls", "fail", "hold"])
    parser.add_argument("name")
    parser.add_argument("--url", default="")
    parser.add_argument("--rate", default="")
    parser.add_argument("--cap", type=int, default=None)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--threshold", type=int, default=3)
    parser.add_argument("--reset", type=float, default=30.0)
    parser.add_argument("--lease", type=float, default=30.0)
    args = parser.parse_args(argv)
    policy = HealthPolicy(failure_threshold=args.threshold, reset_timeout=args.reset)
    books = ProviderBooks(args.storage, policy, lease=args.lease)
    try:
        run = {"calls": _calls, "fail": _fail, "hold": _hold}[args.mode]
        print(json.dumps(await run(books, args)), flush=True)
    finally:
        await books.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
