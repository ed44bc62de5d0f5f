"""The built-in providers and how the registry is assembled from settings."""

from __future__ import annotations

import logging

import httpx

from leadsonar.config import Settings
from leadsonar.domains.knowledge import DomainKnowledge
from leadsonar.kit.db import Database
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.safe_http import SafeHttp
from leadsonar.kit.net.smtp_pool import SmtpPool
from leadsonar.providers.base import Provider
from leadsonar.providers.book import ProviderBooks
from leadsonar.providers.builtin.known import KnownContactsProvider
from leadsonar.providers.builtin.mailbox import MailboxChecker
from leadsonar.providers.builtin.roster import SiteRoster
from leadsonar.providers.builtin.smtp import SmtpProber
from leadsonar.providers.builtin.website import WebsiteProvider
from leadsonar.providers.http.adapters import build_http_providers
from leadsonar.providers.registry import ProviderRegistry, parse_order

log = logging.getLogger(__name__)


def build_providers(
    settings: Settings, db: Database, knowledge: DomainKnowledge
) -> dict[str, Provider]:
    """Every built-in provider, keyed by name, reading domain knowledge through
    ``knowledge`` (and its resolver) and recording what they learn into each lookup's
    ``ctx.learned``."""
    resolver = knowledge.resolver
    checker = MailboxChecker(settings, knowledge, SmtpPool(settings))
    website = WebsiteProvider(settings, db, SafeHttp(settings, resolver), knowledge)
    # The prober reads who the site lists only where the website is a source for emails: an
    # operator who left it out of the email order gets no crawl from the prober either.
    roster = SiteRoster(website) if "website" in parse_order(settings.providers)["email"] else None
    return {
        "known": KnownContactsProvider(db),
        "smtp": SmtpProber(settings, checker, roster),
        "website": website,
    }


def build_registry(
    settings: Settings, db: Database, http: httpx.AsyncClient | None = None
) -> ProviderRegistry:
    """The registry with ``LEADSONAR_PROVIDERS`` order and one book per provider (health,
    breaker, quotas, usage), shared through ``LEADSONAR_RATE_LIMIT_STORAGE``, and the one
    :class:`DomainKnowledge` port the built-ins read through and the waterfall persists with.

    Args:
        http: the app's shared client; without it only the built-in providers exist.

    Raises:
        ValueError: the order names an unknown provider or field, or a provider setting
            (``LEADSONAR_PROVIDER_LIMITS`` …) is malformed.
    """
    knowledge = DomainKnowledge(db, Resolver.from_settings(settings))
    providers = build_providers(settings, db, knowledge)
    books = ProviderBooks.from_settings(settings, db)
    if http is not None:
        for name, provider in build_http_providers(settings, http, books).items():
            if name in providers:
                log.warning("provider %s is a built-in name; the configured one is ignored", name)
                continue
            providers[name] = provider
    return ProviderRegistry(
        providers, parse_order(settings.providers), books=books, knowledge=knowledge
    )
