"""Company name → domain (see :mod:`.resolver` for the order of sources, :mod:`.names` for the
guesses, :mod:`.evidence` for how a site is judged, :mod:`.sources` for Wikidata and the
providers' company searches)."""

from leadsonar.domains.companies.evidence import TITLE_MATCH_THRESHOLD, title_score
from leadsonar.domains.companies.imports import import_companies
from leadsonar.domains.companies.names import (
    LEGAL_FORMS,
    company_key,
    domain_guesses,
    ranked_guesses,
)
from leadsonar.domains.companies.resolver import CompanyResolver, Resolution
from leadsonar.domains.companies.sources import CompanySearch, WikidataSource

__all__ = [
    "LEGAL_FORMS",
    "TITLE_MATCH_THRESHOLD",
    "CompanyResolver",
    "CompanySearch",
    "Resolution",
    "WikidataSource",
    "company_key",
    "domain_guesses",
    "import_companies",
    "ranked_guesses",
    "title_score",
]
