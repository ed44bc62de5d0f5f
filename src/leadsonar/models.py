"""Every table, imported in one place for Alembic's autogenerate and the models-match test."""

from leadsonar.accounts.models import Account, ApiKey, AppMeta
from leadsonar.domains.models import (
    CompanyDomain,
    DomainFacts,
    DomainPattern,
    KnownContact,
    LearnedAddress,
)
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.idempotency.models import IdempotencyKey
from leadsonar.kit.db import Base
from leadsonar.ledger.models import AccountBalance, LedgerEntry
from leadsonar.providers.models import ProviderUsage
from leadsonar.suppressions.models import Suppression
from leadsonar.waterfall.models import LookupCache
from leadsonar.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSecret

__all__ = [
    "Account",
    "AccountBalance",
    "ApiKey",
    "AppMeta",
    "Base",
    "CompanyDomain",
    "DomainFacts",
    "DomainPattern",
    "EnrichmentItem",
    "EnrichmentJob",
    "IdempotencyKey",
    "KnownContact",
    "LearnedAddress",
    "LedgerEntry",
    "LookupCache",
    "ProviderUsage",
    "Suppression",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSecret",
]
