"""Company names: their match key, the shorter names a company goes by, and the domains it
likely owns.

A company's legal name (``Sonnenfeld Logistik GmbH & Co. KG``) is rarely its domain. Field
conventions this module encodes (each one a guess that :mod:`.evidence` must confirm):

- the **legal form** is never in the domain, except as a German/Austrian-style suffix
  (``beispiel-gmbh.de``); it points at a country TLD (``GmbH`` → ``.de``, ``SAS`` → ``.fr``);
  compound forms (``GmbH & Co. KG``, ``S.A.S.``, ``Pty Ltd``) are one form;
- **descriptor words** (``Groupe``, ``Holding``, ``Labs``, ``Technologies``, ``Security``,
  ``Logistik`` …) at either end are often left out of the domain;
- companies mostly own their **first word** or **first two words**, joined or hyphenated, often
  with ``get``/``try``/``use`` before or ``hq``/``app``/``-global``/``-group`` after;
- the TLD is ``.com``, the country's own, or a startup TLD (``.io``, ``.co``, ``.ai`` …).

Every guess carries a prior (0..1, how often names of that shape own that domain); the resolver
asks DNS in prior order and lets evidence, not the prior, decide among the domains that exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from anyascii import anyascii

# Legal forms, folded (dots removed, lower case), with the country TLDs they point at, most
# likely first. ``None``: no country (Inc., LLC are used world-wide).
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "inc": (),
    "incorporated": (),
    "llc": (),
    "llp": ("co.uk",),
    "lp": (),
    "ltd": ("co.uk",),
    "limited": ("co.uk",),
    "corp": (),
    "corporation": (),
    "co": (),
    "company": (),
    "plc": ("co.uk",),
    "pty": ("com.au",),
    "gmbh": ("de", "at", "ch"),
    "mbh": ("de",),
    "ag": ("de", "ch"),
    "ug": ("de",),
    "kg": ("de",),
    "kgaa": ("de",),
    "ohg": ("de",),
    "gbr": ("de",),
    "ev": ("de",),
    "eg": ("de",),
    "sarl": ("fr",),
    "sas": ("fr",),
    "sasu": ("fr",),
    "eurl": ("fr",),
    "sa": ("fr", "es", "ch"),
    "sca": ("fr",),
    "snc": ("fr",),
    "bv": ("nl",),
    "nv": ("nl", "be"),
    "bvba": ("be",),
    "srl": ("it", "ro"),
    "spa": ("it",),
    "sl": ("es",),
    "slu": ("es",),
    "ab": ("se",),
    "oy": ("fi",),
    "oyj": ("fi",),
    "asa": ("no",),
    "as": ("no", "dk"),
    "aps": ("dk",),
    "sp": ("pl",),
    "zoo": ("pl",),
    "sro": ("cz",),
    "kft": ("hu",),
    "kk": ("co.jp",),
    "se": (),
}

# Generic words companies add to their name but often not to their domain (en, de, fr, es, it).
DESCRIPTORS = frozenset(
    """
    group groupe gruppe grupo gruppo holding holdings global international worldwide labs lab
    technologies technology tech technik technologie technologies solutions solution loesungen
    losungen consulting consultants conseil conseils beratung services service dienstleistungen
    security sicherheit securite logistics logistik logistique payments payment software systems
    systeme partners partner digital industries industrie studio studios
    networks network media analytics data cloud robotics enterprises enterprise associates agency
    agentur agence management innovations innovation products works werke company companies
    corporation online interactive sohne soehne sons fils freres brothers bros cie health
    healthcare medical energy ai data bio biotech pharma finance financial insurance travel
    foods food design marketing engineering research motors mobility automation electronics
    telecom communications retail commerce learning education games gaming sports properties
    construction immobilien and und et
    """.split()
)
_GERMAN_HINTS = frozenset(
    "gruppe logistik technik beratung dienstleistungen sicherheit werke loesungen bau und".split()
)
_FRENCH_HINTS = frozenset(
    "groupe conseil conseils logistique securite agence societe et les des du la le".split()
)
# Descriptor words that say how a company is organised, not what it does: "Brightwave Group"
# and "Brightwave Holding AG" are one company, "Northwind Analytics" and "Northwind Security"
# two. (The others in DESCRIPTORS name a line of business.)
STRUCTURE_WORDS = frozenset(
    """
    group groupe gruppe grupo gruppo holding holdings global international worldwide labs lab
    company companies corporation enterprises enterprise sohne soehne sons fils freres brothers
    bros cie partner partners associates verwaltungs verwaltung beteiligungs management
    """.split()
)

# How descriptor words are shortened in domains (kessler-tech.co.uk, acmepay.com).
ABBREVIATIONS = {
    "technologies": "tech",
    "technology": "tech",
    "technik": "tech",
    "payments": "pay",
    "payment": "pay",
    "systems": "sys",
    "software": "soft",
    "security": "sec",
    "international": "intl",
    "logistics": "log",
    "logistik": "log",
    "consulting": "consult",
    "solutions": "solutions",
}
_LEADING_ARTICLES = frozenset({"the", "die", "der", "das", "le", "la", "les", "l"})

PREFIXES = ("get", "try", "use")
SUFFIXES = ("hq", "-hq", "app", "-global", "-group", "global", "group")
STARTUP_TLDS = (("io", 0.45), ("co", 0.4), ("ai", 0.25), ("app", 0.2), ("so", 0.15))
OTHER_TLDS = (("net", 0.2), ("org", 0.15))


_DOMAIN_NAME = re.compile(
    r"(?:www\.)?([a-z0-9][a-z0-9-]*)\.(com|net|org|io|co|ai|app|so|dev|tech|de|fr|uk|nl|be|ch|at"
    r"|es|it|se|fi|no|dk|pl|eu|us|ca|au|co\.uk|com\.au)"
)


def written_domain(name: str) -> str | None:
    """The domain a company name is written as (``Acme.io`` → ``acme.io``), or ``None``."""
    found = _DOMAIN_NAME.fullmatch(anyascii(name).strip().lower())
    return f"{found.group(1)}.{found.group(2)}" if found else None


def _fold(name: str) -> str:
    """Lower-case ASCII; dots inside abbreviations removed (``S.A.S.`` → ``sas``); a name
    written as a domain is its label (``Acme.io`` → ``acme``)."""
    written = written_domain(name)
    if written:
        return written.split(".")[0]
    folded = anyascii(name).lower().replace("&", " ")
    return re.sub(r"(?<=\w)\.(?=\w|\s|$)", "", folded)


def name_tokens(name: str) -> list[str]:
    """Folded words of a name or a text (``S.A.S.``, ``S. A. S.`` → ``sas``; ``&`` dropped)."""
    words = [w for w in re.split(r"[^a-z0-9]+", _fold(name)) if w]
    # "S A S" (spaced abbreviations) → "sas"
    merged: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            joined = "".join(run)
            merged.extend([joined] if len(run) > 1 and joined in LEGAL_FORMS else run)
            run = []
        if word:
            merged.append(word)
    return merged


def split_legal_form(name: str) -> tuple[list[str], list[str]]:
    """``(words, legal form words)`` of ``name``: the trailing run of legal-form words is the
    legal form (``Sonnenfeld Logistik GmbH & Co. KG`` → ``(["sonnenfeld", "logistik"],
    ["gmbh", "co", "kg"])``); a name that is only a legal form keeps its words."""
    words = name_tokens(name)
    end = len(words)
    while end > 0 and words[end - 1] in LEGAL_FORMS:
        end -= 1
    if end == 0:
        return words, []
    return words[:end], words[end:]


def company_key(name: str) -> str:
    """A match key: folded, without the legal form or punctuation (``Notion Labs, Inc.`` →
    ``notion labs``; ``Sonnenfeld Logistik GmbH & Co. KG`` → ``sonnenfeld logistik``)."""
    return " ".join(split_legal_form(name)[0])


def core_forms(name: str) -> list[str]:
    """The shorter names the company may go by, as match keys, longest first: the name without
    a leading article, then without leading and/or trailing descriptor words (``Groupe Morel
    Conseil`` → ``groupe morel``, ``morel conseil``, ``morel``); never the full key itself."""
    words = split_legal_form(name)[0]
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    lead = 0
    while lead < len(words) - 1 and words[lead] in DESCRIPTORS:
        lead += 1
    trail = 0
    while trail < len(words) - 1 - lead and words[len(words) - 1 - trail] in DESCRIPTORS:
        trail += 1
    forms = [
        " ".join(words[i : len(words) - j])
        for i in range(lead + 1)
        for j in range(trail + 1)
        if len(words) - j > i
    ]
    full = company_key(name)
    forms.sort(key=lambda f: -len(f.split()))
    connectors = {"and", "und", "et"}
    return [
        f
        for f in dict.fromkeys(forms)
        if f and f != full and f.split()[0] not in connectors and f.split()[-1] not in connectors
    ]


def core_key(words: list[str]) -> str:
    """``words`` without a leading article and leading/trailing descriptor words, squeezed
    (``["brightwave", "group"]`` → ``brightwave``): two names with one core key are one
    company's name spelt two ways (``Brightwave Group``, ``Brightwave Holding AG``)."""
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    start, end = 0, len(words)
    while end - start > 1 and words[end - 1] in DESCRIPTORS:
        end -= 1
    while end - start > 1 and words[start] in DESCRIPTORS:
        start += 1
    return "".join(words[start:end])


def country_tlds(name: str) -> list[str]:
    """Country TLDs the name points at: its legal form's (``GmbH`` → ``de``, ``at``, ``ch``),
    else its language's (German or French descriptor words, umlauts or accents)."""
    words, legal = split_legal_form(name)
    found: list[str] = []
    for word in legal:
        found.extend(LEGAL_FORMS.get(word, ()))
    if not found:
        lowered = name.lower()
        if set(words) & _GERMAN_HINTS or re.search("[äöüß]", lowered):
            found.append("de")
        if set(words) & _FRENCH_HINTS or re.search("[éèêàçôû]", lowered):
            found.append("fr")
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Guess:
    """A domain a company may own and the prior (0..1) of names of that shape owning it."""

    domain: str
    prior: float


_GERMAN_SPELLING = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def _bases(name: str) -> list[tuple[list[str], float]]:
    """Word sequences a domain may be made of, with their weights; a name with umlauts also in
    the German ASCII spelling (``Müller`` → ``mueller`` beside ``muller``)."""
    found = _plain_bases(name)
    german = name.translate(_GERMAN_SPELLING)
    if german != name:
        found += [(seq, weight * 0.95) for seq, weight in _plain_bases(german)]
    best: dict[tuple[str, ...], float] = {}
    for seq, weight in found:
        best[tuple(seq)] = max(best.get(tuple(seq), 0.0), weight)
    return [(list(seq), weight) for seq, weight in best.items()]


def _plain_bases(name: str) -> list[tuple[list[str], float]]:
    words, legal = split_legal_form(name)
    if not words:
        return []
    bases: list[tuple[list[str], float]] = [(words, 1.0)]
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        bases.append((words[1:], 0.9))
        words = words[1:]
    for form in core_forms(name):
        bases.append((form.split(), 0.85))
    if len(words) > 1 and words[0] not in DESCRIPTORS and len(words[0]) > 2:
        bases.append((words[:1], 0.7))
    if len(words) > 2 and words[1] not in DESCRIPTORS:
        bases.append((words[:2], 0.6))
    if len(words) > 2:
        bases.append(([w[0] for w in words], 0.1))  # initials: International Business Machines
    if legal and len(legal) == 1:
        bases.append(([*words, legal[0]], 0.4))  # beispiel-gmbh.de
    if len(words) > 1 and words[-1] in ABBREVIATIONS:
        short = ABBREVIATIONS[words[-1]]
        if short != words[-1]:
            bases.append(([*words[:-1], short], 0.35))  # kessler-tech, acmepay
    if len(legal) > 1 and legal[0] == "co":
        bases.append(([*words, "co"], 0.4))  # "Solace & Co LLC": solaceco.com
    best: dict[tuple[str, ...], float] = {}
    for seq, weight in bases:
        key = tuple(seq)
        best[key] = max(best.get(key, 0.0), weight)
    return [(list(seq), weight) for seq, weight in best.items()]


def ranked_guesses(name: str, limit: int = 200) -> list[Guess]:
    """Domains a company called ``name`` likely uses, highest prior first (at most ``limit``).

    Each base (the full name, the name without descriptor words, its first word, its first two
    words, the name plus its legal form …) is tried joined and hyphenated on ``.com``, the
    country TLDs of its legal form or language, then ``.io .co .ai .app .so .net .org``; the
    strongest bases also with ``get``/``try``/``use`` before and ``hq``/``app``/``-global``/
    ``-group`` … after. Only valid DNS labels (≤ 63 characters, no leading or trailing hyphen)
    are returned, each domain once.
    """
    countries = country_tlds(name)
    # A GmbH or a SARL more often uses its country's TLD than .com; a language hint, or a
    # Ltd's .co.uk, is weaker.
    legal_country = split_legal_form(name)[1] and countries[:1] not in (["co.uk"], ["com.au"])
    first = 1.05 if legal_country else 0.9
    tlds: list[tuple[str, float]] = [("com", 1.0)]
    tlds += [(tld, first if i == 0 else 0.45) for i, tld in enumerate(countries)]
    tlds += list(STARTUP_TLDS) + list(OTHER_TLDS)
    for tld in ("de", "fr"):
        if tld not in countries:
            tlds.append((tld, 0.1))
    priors: dict[str, float] = {}

    def add(label: str, tld: str, prior: float) -> None:
        if not label or len(label) > 63 or label[0] == "-" or label[-1] == "-":
            return
        domain = f"{label}.{tld}"
        priors[domain] = max(priors.get(domain, 0.0), prior)

    bases = _bases(name)
    for seq, weight in bases:
        joined = "".join(seq)
        if len(joined) < 2:
            continue
        # "beispiel-gmbh.de": a legal-form suffix is hyphenated about as often as not
        hyphen = 0.9 if seq[-1] in LEGAL_FORMS else 0.6
        for tld, tld_weight in tlds:
            add(joined, tld, weight * tld_weight)
            if len(seq) > 1:
                add("-".join(seq), tld, weight * tld_weight * hyphen)
    strongest = sorted(bases, key=lambda b: -b[1])[:4]
    affix_tlds = [("com", 1.0), *[(t, 0.8) for t in countries[:1]], ("io", 0.5), ("co", 0.4)]
    for seq, weight in strongest:
        joined = "".join(seq)
        if len(joined) < 2:
            continue
        for tld, tld_weight in affix_tlds:
            for prefix in PREFIXES:
                add(prefix + joined, tld, weight * tld_weight * 0.3)
            for suffix in SUFFIXES:
                add(joined + suffix, tld, weight * tld_weight * (0.3 if suffix == "hq" else 0.2))
    written = written_domain(name)
    if written:
        priors[written] = 2.0  # "Acme.io": the name says its domain
    ranked = sorted(priors.items(), key=lambda item: -item[1])
    return [Guess(domain, round(prior, 4)) for domain, prior in ranked[:limit]]


def domain_guesses(name: str, limit: int = 200) -> list[str]:
    """:func:`ranked_guesses` as bare domains, most likely first."""
    return [guess.domain for guess in ranked_guesses(name, limit)]
