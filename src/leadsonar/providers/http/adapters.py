"""Bring-your-own-key HTTP providers: the shipped adapters, declarative ones, and outsiders'.

:func:`build_http_providers` makes every adapter in :data:`ADAPTERS` (each ``unconfigured``
until ``LEADSONAR_<NAME>_API_KEY`` is set), every declarative provider
(:mod:`leadsonar.providers.declarative`) and every provider published by another package under
the ``leadsonar.providers`` entry-point group (CONVENTIONS habit 7). A provider that cannot be
built is kept as a :class:`BrokenProvider` so ``/providers`` shows why instead of it vanishing.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from importlib.metadata import entry_points
from typing import Any, Protocol

import httpx

from leadsonar.providers.base import (
    CallContext,
    Company,
    Finding,
    LookupContext,
    Person,
    Provider,
)
from leadsonar.providers.declarative import DeclarativeProvider, load_specs
from leadsonar.providers.http.apollo import ApolloProvider
from leadsonar.providers.http.base import HttpProvider
from leadsonar.providers.http.dropcontact import DropcontactProvider
from leadsonar.providers.http.findymail import FindymailProvider
from leadsonar.providers.http.hunter import HunterProvider
from leadsonar.providers.http.icypeas import IcypeasProvider
from leadsonar.providers.http.leadmagic import LeadMagicProvider
from leadsonar.providers.http.lusha import LushaProvider
from leadsonar.providers.http.pdl import PeopleDataLabsProvider
from leadsonar.providers.http.prospeo import ProspeoProvider
from leadsonar.providers.quotas import Turn

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "leadsonar.providers"

ADAPTERS: dict[str, type[HttpProvider]] = {
    cls.name: cls
    for cls in (
        HunterProvider,
        ProspeoProvider,
        LeadMagicProvider,
        FindymailProvider,
        IcypeasProvider,
        DropcontactProvider,
        ApolloProvider,
        PeopleDataLabsProvider,
        LushaProvider,
    )
}


class Quotas(Protocol):
    """What the builder needs of :class:`leadsonar.providers.book.ProviderBooks`."""

    def configure(self, name: str, rates: str | None, concurrency: int | None) -> None: ...

    def slot(
        self, name: str, call: CallContext | None = None
    ) -> AbstractAsyncContextManager[Turn | None]: ...


class BrokenProvider:
    """A provider that could not be built; it answers nothing and says why on ``/providers``."""

    kind = "http"
    cost = 0.0

    def __init__(self, name: str, reason: str, fields: frozenset[str] | None = None) -> None:
        self.name = name
        self.reason = reason
        self.fields = fields or frozenset({"email", "phone"})

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    def status_detail(self) -> str | None:
        return self.reason


def parse_per_provider(spec: str) -> dict[str, str]:
    """``"hunter=15/second,500/minute;apollo=50/minute"`` → ``{"hunter": "15/second,…", …}``.

    Raises:
        ValueError: a part is not ``name=value``.
    """
    values: dict[str, str] = {}
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise ValueError(f"{part!r} is not of the form provider=value")
        values[name.strip().lower()] = value.strip()
    return values


def _float(values: dict[str, str], key: str) -> float | None:
    if key not in values:
        return None
    try:
        return float(values[key])
    except ValueError:
        raise ValueError(
            f"LEADSONAR_PROVIDER_COSTS: {key}={values[key]!r} is not a number"
        ) from None


def build_http_providers(settings: Any, http: httpx.AsyncClient, quotas: Quotas) -> dict[str, Any]:
    """Every HTTP provider keyed by name, with its quotas configured in ``quotas``.

    Raises:
        ValueError: ``LEADSONAR_PROVIDER_LIMITS`` / ``…_CONCURRENCY`` / ``…_COSTS`` is malformed.
    """
    rates = parse_per_provider(settings.provider_limits)
    caps = {k: int(v) for k, v in parse_per_provider(settings.provider_concurrency).items()}
    costs = parse_per_provider(settings.provider_costs)
    providers: dict[str, Any] = {}
    for name, cls in ADAPTERS.items():
        providers[name] = cls(
            http,
            getattr(settings, f"{name}_api_key"),
            getattr(settings, f"{name}_base_url"),
            quotas=quotas,
            cost=_float(costs, name),
            phone_cost=_float(costs, f"{name}.phone"),
            poll_interval=settings.provider_poll_interval,
        )
        quotas.configure(
            name, rates.get(name, cls.default_rates), caps.get(name, cls.default_concurrency)
        )
        for bucket, default in cls.extra_buckets.items():
            quotas.configure(bucket, rates.get(bucket, default), caps.get(bucket))
    specs = load_specs(settings.declarative_providers, settings.declarative_providers_file)
    for name, spec in specs.items():
        if name in providers:
            providers[name] = BrokenProvider(name, f"{name!r} is a built-in provider's name")
            continue
        if isinstance(spec, str):
            providers[name] = BrokenProvider(name, spec)
            continue
        providers[name] = DeclarativeProvider(name, spec, http, quotas=quotas)
        quotas.configure(name, rates.get(name, spec.rate_limit), caps.get(name, spec.concurrency))
    providers.update(_entry_point_providers(settings, http, quotas, taken=set(providers)))
    return providers


def _entry_point_providers(
    settings: Any, http: httpx.AsyncClient, quotas: Quotas, taken: set[str]
) -> dict[str, Any]:
    """Providers other packages publish: ``[project.entry-points."leadsonar.providers"]
    name = "package.module:factory"``, the factory called as ``factory(settings=…, http=…,
    quotas=…)`` and returning a :class:`~leadsonar.providers.base.Provider`."""
    found: dict[str, Any] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        name = point.name.strip().lower()
        if name in taken:
            continue
        try:
            provider = point.load()(settings=settings, http=http, quotas=quotas)
            if not isinstance(provider, Provider):
                raise TypeError("the factory did not return a Provider")
        except Exception as exc:
            log.warning("provider %s failed to load: %s", name, type(exc).__name__)
            found[name] = BrokenProvider(name, f"failed to load: {type(exc).__name__}")
            continue
        found[name] = provider
    return found
