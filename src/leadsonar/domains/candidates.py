"""Address patterns: a person's name → ordered email local-part candidates, and back.

A pattern name spells its own recipe: slots ``first``, ``last`` (a name form), ``f``, ``l``,
``m`` (the given name's, the surname's, the middle name's initial), joined by at most one
separator kind ``.``, ``_`` or ``-`` (``f.last`` → ``j.doe``).
Name forms come from :func:`leadsonar.domains.names.name_forms`. A form that itself holds a
separator is only used where it cannot blur into its neighbour: a dotted form
(``navarro.quintero``) only in ``.`` patterns, a hyphenated one (``jean-luc``) in ``.`` and
``-`` patterns and on its own (``first``, ``last``).

Every local part produced is ``[a-z0-9]+`` runs joined by single ``.``/``_``/``-``, so it never
starts or ends with a separator nor holds ``..`` (FC-13), and ``local@domain`` passes
``email_validator`` syntax checks (RFC 5321/5322, no DNS).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from leadsonar.domains.names import NameForms, name_forms
from leadsonar.kit.emails import local_part_is_valid

__all__ = [
    "MIDDLE_PATTERNS",
    "MIDDLE_TWINS",
    "PATTERNS",
    "Candidate",
    "generate_candidates",
    "infer_patterns",
    "is_role_local_part",
    "render",
]

# Global popularity order of company address formats, most common first.
PATTERNS: tuple[str, ...] = (
    "first.last",
    "first",
    "flast",
    "firstlast",
    "f.last",
    "first_last",
    "firstl",
    "last",
    "last.first",
    "lastf",
    "first-last",
    "lastfirst",
    "first.l",
)

# Middle-initial forms companies give the second person a pattern maps to (``daniel.j.moreau``
# beside a colleague's ``daniel.moreau``), keyed by the plain pattern they extend: the middle
# initial goes where the given name's part ends, with the pattern's own separator or glued to a
# leading initial (``f.last`` → ``fm.last``/``ss.neumann`` and ``f.m.last``/``s.s.neumann``).
# A person whose name carries a middle initial is tried at these first (issue 8 §3); an address
# found at one teaches its plain pattern. ``first`` and ``last`` have none: a one-part address
# has no place that tells a middle initial from a name (``danielj`` reads as ``firstl``).
MIDDLE_TWINS: dict[str, tuple[str, ...]] = {
    "first.last": ("first.m.last",),
    "flast": ("fmlast",),
    "firstlast": ("firstmlast",),
    "f.last": ("fm.last", "f.m.last"),
    "first_last": ("first_m_last",),
    "first-last": ("first-m-last",),
    "firstl": ("firstml",),
    "first.l": ("first.m.l",),
    "last.first": ("last.first.m",),
    "lastf": ("lastfm",),
    "lastfirst": ("lastfirstm",),
}
MIDDLE_PATTERNS = frozenset(twin for twins in MIDDLE_TWINS.values() for twin in twins)

# Patterns whose secondary spellings (jorg.grossmann next to joerg.grossmann) are tried before
# the primary spellings of rarer patterns: the head of the global order holds most addresses.
_HEAD = 4
# Family-first names (Han, Hangul) try each family-first pattern right after its twin (FC-02).
_FAMILY_FIRST_TWINS = (("first.last", "last.first"), ("firstlast", "lastfirst"))

_SLOT = re.compile(r"(first|last|f|l|m)([._-]?)")
_FIELDS = {
    "first": "firsts",
    "last": "lasts",
    "f": "first_initials",
    "l": "last_initials",
    "m": "middle_initials",
}
_LOCAL_PART = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_SUBADDRESS = re.compile(r"\+.*$")
_UMLAUTS = re.compile("[äöüÄÖÜ]")

_ROLE_WORDS = frozenset(
    """
    abuse accounting accounts admin administrator billing bookings booking bounce bounces
    career careers compliance contact contacts contactus customerservice customers
    donotreply email enquiries enquiry events feedback finance general hello help helpdesk
    hi hostmaster hr info information inquiries inquiry investors invoice invoices ir it jobs
    legal mail mailerdaemon marketing media news newsletter noreply office orders partners
    postmaster pr press privacy recruiting recruitment reception reservations root sales
    security service services shop support sysadmin team webmaster
    anfragen bewerbung buchhaltung datenschutz empfang impressum karriere kontakt presse
    rechnung vertrieb verwaltung accueil bonjour commercial compta comptabilite facturation
    recrutement contacto empleo facturacion hola prensa soporte ventas amministrazione
    commerciale contatti vendite klantenservice verkoop
    anfrage bestellung einkauf hallo kundenservice redaktion reservierung sekretariat zentrale
    achats direction rh secretariat ventes welcome hotline newsroom order servicedesk
    """.split()
)


@dataclass(frozen=True)
class Candidate:
    """One guessed local part and the pattern (a name from :data:`PATTERNS`) that made it."""

    local_part: str
    pattern: str


def generate_candidates(
    first: str,
    last: str,
    domain: str,
    *,
    preferred: Sequence[str] = (),
    limit: int | None = None,
    umlauts_first: bool | None = None,
) -> list[Candidate]:
    """Guess a person's address local parts at ``domain``, most likely first.

    Order: each ``preferred`` pattern in the given order, all spellings of the name; then the
    primary spelling of the next four global patterns (``_HEAD``), then their other spellings
    (``joerg.grossmann``, …, ``jorg.grossmann``; FC-03); then the remaining patterns the same
    way. Within a pattern, structural forms keep their order (FC-06: ``ines.navarro``,
    ``ines.navarroquintero``, ``ines.navarro.quintero`` before ``inavarro``). A local part
    made by two patterns is kept once, under the earlier one. Patterns needing a name part the
    person lacks are skipped (no ``lena.`` for an empty surname, FC-13).

    Args:
        first: given name(s), any script; may be empty.
        last: surname(s), any script; may be empty.
        domain: the mail domain, used for the umlaut order and the syntax check.
        preferred: pattern names learned for this domain (see :func:`infer_patterns`); names
            not in :data:`PATTERNS` are ignored, so stored patterns survive a rename.
        limit: the most candidates to return; ``None`` for all.
        umlauts_first: the domain's learned umlaut spelling (:func:`infer_umlaut_style`);
            ``None`` orders by the TLD (FC-03).

    Returns:
        Candidates, unique by local part. Role local parts (:func:`is_role_local_part`) and
        addresses ``email_validator`` rejects (syntax only, e.g. a dotless domain) are left out.

    Raises:
        ValueError: ``limit`` is negative.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must be zero or more")
    spellings = name_forms(first, last, domain, umlauts_first=umlauts_first)
    known = list(dict.fromkeys(pattern for pattern in preferred if pattern in PATTERNS))
    rest = [p for p in _global_order(spellings[0].family_first) if p not in known]
    # A middle initial: its forms of the likely patterns first when the caller wrote it to
    # tell the person apart (``Daniel J.``), else right after the head of the order.
    given = any(s.middle_given for s in spellings)
    twins = [
        (twin, _middle_spelling(spelling))
        for pattern in known + rest[:_HEAD]
        for twin in MIDDLE_TWINS.get(pattern, ())
        for spelling in spellings
        if spelling.middle_initials
    ]
    # A second given-name word may be a middle name or half of a double given name (``Mary
    # Ann``): only the likeliest pattern's middle form, after the head of the order.
    plan = list(twins) if given else []
    plan += [(pattern, spelling) for pattern in known for spelling in spellings]
    for index, group in enumerate((rest[:_HEAD], rest[_HEAD:])):
        plan += [(pattern, spelling) for spelling in spellings for pattern in group]
        if index == 0 and not given:
            plan += twins[:1]

    seen: set[str] = set()
    candidates: list[Candidate] = []
    for pattern, spelling in plan:
        for local_part in _render_spelling(pattern, spelling):
            if limit is not None and len(candidates) >= limit:
                return candidates
            if local_part not in seen:
                seen.add(local_part)
                if _acceptable(local_part, domain):
                    candidates.append(Candidate(local_part, pattern))
    return candidates


def render(pattern: str, first: str, last: str, domain: str | None = None) -> list[str]:
    """The local parts one pattern gives for a person, most likely first.

    Args:
        pattern: a name from :data:`PATTERNS` (or any slot/separator recipe, e.g. ``l.first``).
        first: given name(s); may be empty.
        last: surname(s); may be empty.
        domain: only orders the name's spellings (see :func:`~leadsonar.domains.names.name_forms`).

    Returns:
        Unique local parts: the primary spelling's first; ``[]`` when the person lacks a name
        part the pattern needs. No role or ``email_validator`` filtering is applied.

    Raises:
        ValueError: ``pattern`` is not a recipe of ``first``/``last``/``f``/``l`` slots.
    """
    local_parts = (
        local_part
        for spelling in name_forms(first, last, domain)
        for local_part in _render_spelling(pattern, spelling)
    )
    return list(dict.fromkeys(local_parts))


def infer_patterns(local_part: str, first: str, last: str) -> list[str]:
    """The patterns that reproduce a known local part for this person (to learn a domain's).

    Args:
        local_part: the part before ``@`` of an address known to be the person's; case and an
            RFC 5233 ``+tag`` are ignored.
        first: the person's given name(s).
        last: the person's surname(s).

    Returns:
        Pattern names from :data:`PATTERNS`, in their global order, e.g. ``["flast"]`` for
        ``jdoe``/John Doe, ``["first.last", "f.last"]`` for ``j.doe``/J Doe; ``[]`` when none fits.
        A middle-initial form (``daniel.j.moreau`` for Daniel J. Moreau) counts for the plain
        pattern it extends (``first.last``, :data:`MIDDLE_TWINS`).
    """
    target = _SUBADDRESS.sub("", local_part.strip().lower())
    if not target:
        return []
    spellings = name_forms(first, last)
    return [
        pattern
        for pattern in PATTERNS
        if any(
            target in _render_spelling(recipe, spelling)
            for spelling in spellings
            for recipe in (pattern, *MIDDLE_TWINS.get(pattern, ()))
        )
    ]


def infer_umlaut_style(local_part: str, first: str, last: str) -> bool | None:
    """How a known address spells its owner's umlauts: ``True`` spelled out (``joerg``),
    ``False`` plain (``jorg``), ``None`` when the name has none or the address does not tell.

    A company's mail system spells every name the same way, so one known address settles the
    order for the next person at that domain, whatever its TLD.
    """
    if not _UMLAUTS.search(first + last):
        return None
    target = _SUBADDRESS.sub("", local_part.strip().lower())
    spellings = name_forms(first, last, umlauts_first=True)
    if len(spellings) < 2:
        return None
    expanded, plain = spellings[0], spellings[1]
    spelled = any(target in _render_spelling(p, expanded) for p in PATTERNS)
    flat = any(target in _render_spelling(p, plain) for p in PATTERNS)
    if spelled != flat:
        return spelled
    return None


@lru_cache(maxsize=16_384)  # every answer and every published address is checked
def is_role_local_part(local_part: str) -> bool:
    """Whether a local part names a function (``info``, ``no-reply``, ``sales.de``), not a person.

    Role addresses are never returned as a person's address. A local part is a role when,
    ignoring case, an RFC 5233 ``+tag``, separators and digits, it is a role word, or its first
    ``.``/``_``/``-`` separated word is one (``support-emea``, ``office2.berlin``). The words
    cover RFC 2142 mailbox names and common English, German, French, Spanish, Italian and Dutch
    department names.
    """
    normalised = _SUBADDRESS.sub("", local_part.strip().lower())
    collapsed = re.sub(r"[._\-\d]+", "", normalised)
    first_word = re.sub(r"\d+", "", re.split(r"[._-]", normalised, maxsplit=1)[0])
    return collapsed in _ROLE_WORDS or first_word in _ROLE_WORDS


def _middle_spelling(spelling: NameForms) -> NameForms:
    """The spelling middle-initial patterns use: when the middle came as a second given-name
    word (``Sarah Kate``), the given name is its first word alone (``sarah.k.miller``)."""
    if spelling.middle_given:
        return spelling
    return replace(
        spelling, firsts=spelling.firsts[-1:], first_initials=spelling.first_initials[:1]
    )


def _global_order(family_first: bool) -> tuple[str, ...]:
    if not family_first:
        return PATTERNS
    order = list(PATTERNS)
    for given_first, family in _FAMILY_FIRST_TWINS:
        order.remove(family)
        order.insert(order.index(given_first) + 1, family)
    return tuple(order)


@cache
def _recipe(pattern: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """``"f.last"`` → ``(("f", "last"), (".",), ".")``: slot names, the separator after each
    slot but the last, and the pattern's one separator kind (or ``""``).

    Slots are joined by one separator kind, except that two initials may be glued together
    (``fm.last``: the given name's and the middle name's initials, then ``.``).
    """
    found = _SLOT.findall(pattern)
    slots = tuple(name for name, _ in found)
    seps = tuple(sep for _, sep in found[:-1])
    kinds = {sep for sep in seps if sep}
    glued = all(
        sep or kinds == set() or (len(slots[i]) == 1 and len(slots[i + 1]) == 1)
        for i, sep in enumerate(seps)
    )
    if (
        not found
        or "".join(name + sep for name, sep in found) != pattern
        or found[-1][1]
        or len(kinds) > 1
        or not glued
    ):
        raise ValueError(f"not an address pattern: {pattern!r}")
    return slots, seps, kinds.pop() if kinds else ""


def _render_spelling(pattern: str, spelling: NameForms) -> list[str]:
    """Local parts of one pattern for one spelling; form combinations by summed rank."""
    slots, seps, sep = _recipe(pattern)
    pools = []
    for slot in slots:
        pool = [form for form in getattr(spelling, _FIELDS[slot]) if _fits(form, sep, slots)]
        if not pool:
            return []
        pools.append(pool)
    ranks = sorted(
        itertools.product(*(range(len(pool)) for pool in pools)),
        key=lambda rank: (sum(rank), rank),
    )
    return list(
        dict.fromkeys(
            "".join(
                pool[i] + (seps[n] if n < len(seps) else "")
                for n, (pool, i) in enumerate(zip(pools, r, strict=True))
            )
            for r in ranks
        )
    )


def _fits(form: str, sep: str, slots: tuple[str, ...]) -> bool:
    if "." in form:
        return sep == "."
    if "-" in form:
        return sep in (".", "-") or len(slots) == 1
    return True


def _acceptable(local_part: str, domain: str) -> bool:
    if not _LOCAL_PART.fullmatch(local_part) or is_role_local_part(local_part):
        return False
    # The domain was checked where it came in (kit.net.hostnames, which also admits the
    # reserved test TLDs when configured); here only the local part's syntax is in question.
    return local_part_is_valid(local_part)
