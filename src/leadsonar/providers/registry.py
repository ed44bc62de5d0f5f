"""The provider registry: which providers exist, their order per field, and their recent health.

Order comes from ``LEADSONAR_PROVIDERS`` (``email=known,smtp;phone=known``). A provider named
there that is not registered is a configuration error at start; one that is registered but not
usable (e.g. a commercial provider without its key) is listed as ``unconfigured`` and skipped.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from leadsonar.providers.base import Provider
from leadsonar.providers.health import HealthBook

FIELDS = ("email", "phone")
AUTO = "auto"  # in a field's order: rank its providers by hit rate per cost
WINDOW = 50  # outcomes kept per provider for /providers


def parse_order(spec: str) -> dict[str, list[str]]:
    """Parse ``"email=known,smtp;phone=known"`` into ``{"email": [...], "phone": [...]}``.

    Raises:
        ValueError: a part is not ``field=name,…`` or names an unknown field.
    """
    order: dict[str, list[str]] = {f: [] for f in FIELDS}
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"LEADSONAR_PROVIDERS part {part!r} is not of the form field=a,b")
        name, _, names = part.partition("=")
        name = name.strip().lower()
        if name not in FIELDS:
            raise ValueError(f"LEADSONAR_PROVIDERS names unknown field {name!r}")
        order[name] = [n.strip().lower() for n in names.split(",") if n.strip()]
    return order


@dataclass
class FieldStats:
    """Calls and hits of one provider for one field (what ``auto`` ranks by)."""

    calls: int = 0
    hits: int = 0


@dataclass
class ProviderStats:
    """Recent outcomes of one provider in this process (latencies in seconds).

    The totals (``calls``, ``hits``, …) cover every field and are what ``/providers`` shows;
    ``fields`` keeps calls and hits per field, so ``auto`` ranks a provider's email answers by
    its email lookups only (a provider good at phones is not thereby ranked high for emails).
    """

    calls: int = 0
    hits: int = 0
    misses: int = 0
    errors: int = 0
    timeouts: int = 0
    last_error_class: str | None = None
    last_error_at: float | None = None
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=WINDOW))
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))
    fields: dict[str, FieldStats] = field(default_factory=dict)

    def record(
        self,
        outcome: str,
        latency: float,
        error_class: str | None = None,
        *,
        fld: str | None = None,
    ) -> None:
        """Count one call; ``outcome`` is ``hit``, ``miss``, ``error`` or ``timeout``; ``fld``
        is the field looked up (``email``/``phone``), counted apart as well when given."""
        self.calls += 1
        self.recent.append(outcome)
        self.latencies.append(latency)
        if fld is not None:
            counts = self.fields.setdefault(fld, FieldStats())
            counts.calls += 1
            counts.hits += int(outcome == "hit")
        if outcome == "hit":
            self.hits += 1
        elif outcome == "miss":
            self.misses += 1
        else:
            self.errors += 1
            if outcome == "timeout":
                self.timeouts += 1
            self.last_error_class = error_class or outcome
            self.last_error_at = time.time()

    def for_field(self, fld: str) -> FieldStats:
        """Calls and hits of lookups of ``fld`` (zero when none yet)."""
        return self.fields.get(fld) or FieldStats()

    def status(self) -> str:
        """``down`` if most recent calls failed, ``degraded`` if some did, else ``operational``."""
        if not self.recent:
            return "operational"
        failed = sum(1 for o in self.recent if o in ("error", "timeout"))
        share = failed / len(self.recent)
        if len(self.recent) >= 3 and share >= 0.8:
            return "down"
        if share >= 0.2:
            return "degraded"
        return "operational"

    def latency_ms(self, quantile: float) -> int | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, round(quantile * (len(ordered) - 1)))
        return int(ordered[index] * 1000)


class ProviderRegistry:
    """Providers by name, their order per field, and their stats.

    Args:
        providers: every known provider, keyed by name.
        order: names per field, in waterfall order (from :func:`parse_order`). The name
            ``auto`` in a field's list asks the waterfall to rank that field's providers by hit
            rate per cost; ``auto`` alone means every provider that can find the field.
        health: breakers and rests per provider (a default :class:`HealthBook` when None).
        quotas: rate/concurrency limits per provider, shown on ``/providers`` (optional).

    Raises:
        ValueError: ``order`` names a provider that is not in ``providers`` or one that cannot
            find that field.
    """

    def __init__(
        self,
        providers: dict[str, Provider],
        order: dict[str, list[str]],
        health: HealthBook | None = None,
        quotas: Any = None,
    ) -> None:
        self.auto = {fld for fld, names in order.items() if AUTO in names}
        order = {
            fld: [n for n in names if n != AUTO]
            or ([n for n, p in providers.items() if fld in p.fields] if fld in self.auto else [])
            for fld, names in order.items()
        }
        for fld, names in order.items():
            for name in names:
                if name not in providers:
                    known = ", ".join(sorted(providers))
                    raise ValueError(
                        f"LEADSONAR_PROVIDERS names {name!r}, which is not a provider "
                        f"(known: {known})"
                    )
                if fld not in providers[name].fields:
                    raise ValueError(f"provider {name!r} cannot find {fld}")
        self.providers = providers
        self.order = order
        self.stats: dict[str, ProviderStats] = {name: ProviderStats() for name in providers}
        self.health = health or HealthBook(list(providers))
        self.quotas = quotas

    def usable(self, name: str) -> bool:
        return self.providers[name].status_detail() is None

    def chain(self, fld: str) -> list[Provider]:
        """The usable providers for ``fld`` in waterfall order."""
        return [self.providers[n] for n in self.order.get(fld, []) if self.usable(n)]

    def describe(self) -> list[dict[str, Any]]:
        """What ``GET /providers`` shows: one dict per provider, enabled ones first in order."""
        rows = []
        for name, provider in self.providers.items():
            stats = self.stats[name]
            detail = provider.status_detail()
            positions = {f: self.order[f].index(name) + 1 for f in FIELDS if name in self.order[f]}
            enabled = bool(positions) and detail is None
            status, reason = ("unconfigured", detail) if detail else self.health.status(name, stats)
            health = self.health.describe(name)
            rows.append(
                {
                    "name": name,
                    "kind": provider.kind,
                    "fields": sorted(provider.fields),
                    "enabled": enabled,
                    "order": positions,
                    "cost": provider.cost,
                    "status": status,
                    "reason": reason,
                    "breaker": health["breaker"],
                    "restingFor": health["restingFor"],
                    "limits": self.quotas.describe(name) if self.quotas is not None else None,
                    "stats": {
                        "calls": stats.calls,
                        "hits": stats.hits,
                        "misses": stats.misses,
                        "errors": stats.errors,
                        "timeouts": stats.timeouts,
                        "requests": health["requests"],
                        "lastErrorClass": health["lastErrorClass"] or stats.last_error_class,
                        "latencyP50Ms": stats.latency_ms(0.5),
                        "latencyP95Ms": stats.latency_ms(0.95),
                        "creditsSpent": health["creditsSpent"],
                    },
                }
            )
        rows.sort(key=lambda r: (not r["enabled"], min(r["order"].values(), default=99), r["name"]))
        return rows
