"""The waterfall: ask providers in order until one answer is good enough, then merge.

Rules (DESIGN.md §2–3):
- Providers are tried in the configured order for the field; each gets at most
  ``provider_timeout`` seconds and the whole lookup at most ``lookup_deadline`` seconds.
- A provider that raises or times out is recorded (``/providers`` shows it) and skipped.
- The cascade stops at the first ``high`` answer; lower answers are kept and merged.
- Findings that agree on a value are merged: ``sources`` counts the independent ones, and two
  independent agreeing findings of at least ``medium`` make the answer ``high``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from leadsonar.providers.base import (
    PROBE_STATS,
    Company,
    Confidence,
    Finding,
    Person,
    ProbeStats,
    Provider,
    ProviderError,
)
from leadsonar.providers.registry import ProviderRegistry

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    """One provider call within a lookup (``outcome``: hit, miss, error, timeout, skipped)."""

    provider: str
    outcome: str
    seconds: float
    error_class: str | None = None


@dataclass
class WaterfallResult:
    """The merged answer for one field.

    Attributes:
        finding: the chosen finding (its confidence already merged), or ``None``.
        sources: independent sources agreeing on the chosen value (0 when not found).
        attempts: every provider tried, in order.
        probe: SMTP connections and RCPT commands spent.
    """

    finding: Finding | None
    sources: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    probe: ProbeStats = field(default_factory=ProbeStats)

    @property
    def confidence(self) -> Confidence | None:
        return self.finding.confidence if self.finding else None


def _key(fld: str, value: str) -> str:
    return value.strip().lower() if fld == "email" else value.strip()


def merge(fld: str, findings: list[Finding]) -> tuple[Finding | None, int]:
    """Group agreeing findings and pick the best group.

    Returns:
        ``(finding, sources)``: the best group's representative with its merged confidence,
        and how many independent findings agree on it.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_key(fld, finding.value), []).append(finding)
    best: tuple[tuple[int, int, int], Finding, int] | None = None
    for position, members in enumerate(groups.values()):
        top = max(members, key=lambda f: f.confidence.rank)
        independent = [f for f in members if f.independent]
        sources = max(1, len({f.provider for f in independent}))
        strong = {f.provider for f in independent if f.confidence.rank >= Confidence.MEDIUM.rank}
        confidence = Confidence.HIGH if len(strong) >= 2 else top.confidence
        merged = Finding(
            value=top.value,
            confidence=confidence,
            verification=top.verification,
            provider=top.provider,
            kind=top.kind,
            evidence=dict(top.evidence),
            independent=top.independent,
        )
        score = (confidence.rank, sources, -position)
        if best is None or score > best[0]:
            best = (score, merged, sources)
    if best is None:
        return None, 0
    return best[1], best[2]


class Waterfall:
    """Runs one field's providers for one person.

    Args:
        registry: providers, their order and stats.
        provider_timeout: seconds one provider may take.
        deadline: seconds the whole lookup may take.
    """

    def __init__(self, registry: ProviderRegistry, provider_timeout: float, deadline: float):
        self.registry = registry
        self.provider_timeout = provider_timeout
        self.deadline = deadline

    async def run(self, fld: str, person: Person, company: Company) -> WaterfallResult:
        """Find ``fld`` (``email`` or ``phone``) for ``person`` at ``company``.

        Never raises for a provider's failure; only cancellation propagates.
        """
        result = WaterfallResult(finding=None)
        findings: list[Finding] = []
        started = time.monotonic()
        for provider in self.registry.chain(fld):
            remaining = self.deadline - (time.monotonic() - started)
            if remaining <= 0:
                result.attempts.append(Attempt(provider.name, "skipped", 0.0, "deadline"))
                continue
            budget = min(remaining, self.provider_timeout)
            finding = await self._call(provider, fld, person, company, budget, result)
            if finding is not None:
                findings.append(finding)
                merged, _ = merge(fld, findings)
                if merged is not None and merged.confidence is Confidence.HIGH:
                    break
        result.finding, result.sources = merge(fld, findings)
        return result

    async def _call(
        self,
        provider: Provider,
        fld: str,
        person: Person,
        company: Company,
        budget: float,
        result: WaterfallResult,
    ) -> Finding | None:
        stats = self.registry.stats[provider.name]
        method = provider.find_email if fld == "email" else provider.find_phone
        began = time.monotonic()
        probe = ProbeStats()
        token = PROBE_STATS.set(probe)
        try:
            async with asyncio.timeout(budget):
                finding = await method(person, company)
        except TimeoutError:
            elapsed = time.monotonic() - began
            stats.record("timeout", elapsed, "timeout")
            result.attempts.append(Attempt(provider.name, "timeout", elapsed, "timeout"))
            log.warning("provider %s timed out after %.1fs", provider.name, elapsed)
            return None
        except ProviderError as exc:
            elapsed = time.monotonic() - began
            stats.record("error", elapsed, exc.error_class)
            result.attempts.append(Attempt(provider.name, "error", elapsed, exc.error_class))
            log.warning("provider %s failed: %s", provider.name, exc.error_class)
            return None
        except Exception as exc:
            elapsed = time.monotonic() - began
            stats.record("error", elapsed, type(exc).__name__)
            result.attempts.append(Attempt(provider.name, "error", elapsed, "internal error"))
            log.exception("provider %s raised", provider.name)
            return None
        finally:
            PROBE_STATS.reset(token)
            result.probe.add(probe)
        elapsed = time.monotonic() - began
        outcome = "hit" if finding is not None else "miss"
        stats.record(outcome, elapsed)
        result.attempts.append(Attempt(provider.name, outcome, elapsed))
        if finding is not None and not finding.provider:
            finding.provider = provider.name
        return finding
