"""The provider registry: which providers exist, their order per field, and their books.

Order comes from ``LEADSONAR_PROVIDERS`` (``email=known,smtp;phone=known``). A provider named
there that is not registered is a configuration error at start; one that is registered but not
usable (e.g. a commercial provider without its key) is listed as ``unconfigured`` and skipped.
"""

from __future__ import annotations

from leadsonar.domains.knowledge import DomainKnowledge
from leadsonar.providers.base import Provider
from leadsonar.providers.book import ProviderBooks
from leadsonar.providers.schemas import ProviderRow, ProvidersPage

FIELDS = ("email", "phone")
AUTO = "auto"  # in a field's order: rank its providers by hit rate per cost


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


class ProviderRegistry:
    """Providers by name, their order per field, and their books.

    Args:
        providers: every known provider, keyed by name.
        order: names per field, in waterfall order (from :func:`parse_order`). The name
            ``auto`` in a field's list asks the waterfall to rank that field's providers by hit
            rate per cost; ``auto`` alone means every provider that can find the field.
        books: each provider's health, breaker, quotas, usage and stats (in-memory books when
            None); every provider is registered in it.
        knowledge: the domain-knowledge port the built-in providers read through; the
            waterfall persists each lookup's ``ctx.learned`` through it (``None``: nothing is
            persisted, for registries without built-ins).

    Raises:
        ValueError: ``order`` names a provider that is not in ``providers`` or one that cannot
            find that field.
    """

    def __init__(
        self,
        providers: dict[str, Provider],
        order: dict[str, list[str]],
        books: ProviderBooks | None = None,
        knowledge: DomainKnowledge | None = None,
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
        self.books = books if books is not None else ProviderBooks()
        self.knowledge = knowledge
        for name, provider in providers.items():
            self.books.register(name, provider.kind)

    def usable(self, name: str) -> bool:
        return self.providers[name].status_detail() is None

    def chain(self, fld: str) -> list[Provider]:
        """The usable providers for ``fld`` in waterfall order."""
        return [self.providers[n] for n in self.order.get(fld, []) if self.usable(n)]

    async def describe(self) -> ProvidersPage:
        """What ``GET /providers`` shows: one row per provider, enabled ones first in order."""
        rows = []
        for name, provider in self.providers.items():
            book = self.books[name]
            view = await book.health.view()
            detail = provider.status_detail()
            positions = {f: self.order[f].index(name) + 1 for f in FIELDS if name in self.order[f]}
            status, reason = ("unconfigured", detail) if detail else book.status(view, book.stats)
            rows.append(
                ProviderRow(
                    name=name,
                    kind=provider.kind,
                    fields=sorted(provider.fields),
                    enabled=bool(positions) and detail is None,
                    order=positions,
                    cost=provider.cost,
                    status=status,
                    reason=reason,
                    breaker=view.breaker.value,
                    restingFor=round(view.rest_left, 1) if view.rest_left else None,
                    limits=book.limits(),
                    stats=book.call_stats(view),
                )
            )
        rows.sort(key=lambda r: (not r.enabled, min(r.order.values(), default=99), r.name))
        return ProvidersPage(providers=rows, order=self.order)
