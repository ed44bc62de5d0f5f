"""Learned address patterns per domain, with counts and a TTL: what an address teaches.

Every address LeadSonar sees at a domain (imported contacts, verified finds, later addresses
published on the web) adds one unit of evidence to each pattern that reproduces it. Candidates for
the next person at that domain try the best-evidenced pattern first. This module says what an
address teaches (:func:`lessons`); the queries that store and read the evidence live in
:mod:`leadsonar.domains.repository`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from leadsonar.domains.candidates import infer_patterns, infer_umlaut_style

PATTERN_TTL = timedelta(days=365)
# Spelling evidence kept beside the patterns: how the domain's addresses spell umlauts.
STYLE_PREFIX = "~"
UMLAUTS_SPELLED = "~umlauts-spelled"
UMLAUTS_PLAIN = "~umlauts-plain"


def lessons(email: str, first: str, last: str) -> tuple[str, list[str], list[str]]:
    """What the address ``email`` of the person ``first last`` teaches its domain.

    Returns:
        ``(domain, patterns, evidence)``: the lower-case domain (``""`` for no address), the
        pattern names the local part matches (empty for e.g. ``jd123@``) and every evidence
        row it adds (the patterns, plus its umlaut spelling :data:`UMLAUTS_SPELLED` /
        :data:`UMLAUTS_PLAIN` when its name has an umlaut).
    """
    local, _, domain = email.strip().lower().rpartition("@")
    if not local or not domain:
        return "", [], []
    patterns = infer_patterns(local, first, last)
    evidence = list(dict.fromkeys(patterns))
    style = infer_umlaut_style(local, first, last)
    if style is not None:
        evidence.append(UMLAUTS_SPELLED if style else UMLAUTS_PLAIN)
    return domain, patterns, evidence


@dataclass(frozen=True)
class DomainEvidence:
    """What a domain's known addresses show.

    Attributes:
        patterns: ``[(pattern, count)]``, most evidence first.
        umlauts_spelled: the addresses spell umlauts out (``True``: ``joerg``), plainly
            (``False``: ``jorg``), or have not shown it (``None``).
    """

    patterns: list[tuple[str, int]]
    umlauts_spelled: bool | None

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> DomainEvidence:
        """From ``{pattern or spelling row: count}`` (the rows of ``domain_patterns``)."""
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        patterns = [(p, n) for p, n in ranked if not p.startswith(STYLE_PREFIX)]
        spelled, plain = counts.get(UMLAUTS_SPELLED, 0), counts.get(UMLAUTS_PLAIN, 0)
        return cls(patterns, None if spelled == plain else spelled > plain)
