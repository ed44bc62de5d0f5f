"""Greylisted single lookups, asked again in the background after the server's delay.

A greylisting server refuses every new (client, sender, recipient) triple for a while and
accepts it when it comes back after the delay (RFC 6647 §2.1). A bulk job waits that out by
scheduling its item again; a single lookup cannot hold its HTTP request for minutes, so it
answers honestly (``verification: "greylisted"``) and leaves the retry to a
:class:`Reprober`: after the delay the same addresses are asked again, the domain's pattern is
learned from what the server accepts, and the judged answer is kept for
:data:`REPROBED_TTL` seconds so that the next lookup of that person gets the verified answer.

The reprober is owned by the ``smtp`` provider, which the app closes at shutdown: tasks still
waiting are cancelled then. At most :data:`MAX_PENDING` re-probes wait at once and a delay
longer than :data:`MAX_DELAY` is not waited for (a server asking for an hour is left to bulk
jobs and later lookups).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import replace

from cachetools import TTLCache

from leadsonar.providers.base import Finding, Person

log = logging.getLogger(__name__)

MAX_PENDING = 256  # re-probes waiting at once (a greylisting wave must not pile up tasks)
MAX_DELAY = 900.0  # seconds: a longer greylisting delay is not waited for in the background
REPROBED_TTL = 3600.0  # seconds a re-probed answer is served to the next lookup
MAX_REPROBED = 10_000  # answers kept


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def person_key(domain: str, person: Person) -> tuple[str, str, str]:
    """The key re-probed answers are kept under: ``(domain, folded first, folded last)``."""
    return (domain, _fold(person.first_name), _fold(person.last_name))


class Reprober:
    """Runs delayed re-probes as bounded background tasks and keeps what they found."""

    def __init__(self) -> None:
        self._tasks: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self._found: TTLCache[tuple[str, str, str], Finding] = TTLCache(
            maxsize=MAX_REPROBED, ttl=REPROBED_TTL
        )
        self._closed = False

    @property
    def pending(self) -> int:
        """Re-probes scheduled and not finished."""
        return len(self._tasks)

    def answer(self, domain: str, person: Person) -> Finding | None:
        """The answer a finished re-probe found for ``person`` at ``domain`` (a copy), if any."""
        found = self._found.get(person_key(domain, person))
        if found is None:
            return None
        return replace(found, evidence=dict(found.evidence))

    def schedule(
        self,
        domain: str,
        person: Person,
        delay: float,
        work: Callable[[], Awaitable[Finding | None]],
    ) -> bool:
        """Run ``work`` after ``delay`` seconds and keep the finding it returns.

        ``work`` runs in a fresh context (nothing of the lookup that scheduled it: no notes,
        no counters, no waiting budget). A person already waiting for a re-probe is not
        scheduled twice.

        Returns:
            Whether the re-probe was scheduled (not when closed, full, already pending, or the
            delay is over :data:`MAX_DELAY`).
        """
        key = person_key(domain, person)
        if self._closed or key in self._tasks or len(self._tasks) >= MAX_PENDING:
            return False
        if delay > MAX_DELAY:
            return False

        async def run() -> None:
            await asyncio.sleep(delay)
            try:
                finding = await work()
            except Exception:
                log.exception("re-probe of %s failed", domain)
                return
            if finding is not None:
                self._found[key] = finding

        task = asyncio.create_task(run(), context=contextvars.Context())
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))
        return True

    async def wait(self) -> None:
        """Wait for every scheduled re-probe to finish (tests and benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel the re-probes still waiting and wait for them to end (shutdown)."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
