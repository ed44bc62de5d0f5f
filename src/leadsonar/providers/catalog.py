"""The built-in providers and how the registry is assembled from settings."""

from __future__ import annotations

from leadsonar.config import Settings
from leadsonar.domains.facts import DomainKnowledge
from leadsonar.kit.db import Database
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.smtp_pool import SmtpPool
from leadsonar.providers.base import Provider
from leadsonar.providers.builtin.known import KnownContactsProvider
from leadsonar.providers.builtin.mailbox import MailboxChecker
from leadsonar.providers.builtin.smtp import SmtpProber
from leadsonar.providers.registry import ProviderRegistry, parse_order


def build_providers(settings: Settings, db: Database) -> dict[str, Provider]:
    """Every provider this installation knows, keyed by name."""
    resolver = Resolver.from_settings(settings)
    checker = MailboxChecker(settings, DomainKnowledge(db, resolver), SmtpPool(settings))
    return {
        "known": KnownContactsProvider(db),
        "smtp": SmtpProber(settings, db, checker),
    }


def build_registry(settings: Settings, db: Database) -> ProviderRegistry:
    """The registry with ``LEADSONAR_PROVIDERS`` order.

    Raises:
        ValueError: the order names an unknown provider or field.
    """
    return ProviderRegistry(build_providers(settings, db), parse_order(settings.providers))
