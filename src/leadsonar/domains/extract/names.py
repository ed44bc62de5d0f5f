"""People's names on pages: finding them, splitting them, comparing them to a query."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from anyascii import anyascii

NAME_MATCH_THRESHOLD = 85.0  # name_score (0..100) for two names to be one person
INITIAL_MATCH_SCORE = 85.0  # name_score when the given name is written as an initial

_PARTICLES = frozenset(
    "van von der den de del della di da das dos du le la ter ten zu y bin ibn al el".split()
)
_HONORIFICS = frozenset(
    "dr prof mr mrs ms miss mx herr frau m mme mlle sir dipl ing mag dott sr sra".split()
)
# Capitalised words that are not names: titles, departments, section and contact words, legal
# forms, and words that start sentences on team pages (en, de, fr, es, it, nl).
_NOT_NAME_WORDS = frozenset(
    """
    a about account accounting accueil adresse address administration ag agentur alle also an
    analyst and anfahrt ansprechpartner ansprechpartnerin appel architect assistant assistance
    assistent assistentin associate associé associée at au aux avenue b2b bank bei board book
    buchhaltung bureau business büro call career careers cell center centre cfo chairman chair
    chargé chargée chef cheffe chief cio co co-founder cofounder commercial commerciale company
    compliance contact contactez contacts contacto controlling coo corp corporation country cpo
    cso cto customer data datenschutz dein deine department design designer designerin dev
    developer development devops die direct directeur director directora directrice direktor
    direktorin division du durch e-mail ein eine einkauf email employee en engineer engineering
    entwickler entwicklerin equipe équipe et europe evp executive fax fellow field finance
    finanzen for founder fondateur fondatrice from führung general geschäftsführer
    geschäftsführerin geschäftsführung gérant gérante gmbh group growth gruppe handy head
    headquarters help hotline hq hr ihr ihre imprint impressum inc information ingenieur
    ingenieurin ingénieur ingénieure inhaber inhaberin innovation intern investor it je join
    junior kg kontakt kontaktieren kundenservice kundendienst l la le lead leader leadership
    legal leiter leiterin les limited llc ltd mail main management manager managerin managing
    marketing media meet member members mentions mit mitarbeiter mitarbeiterin mobil mobile
    mon more nos notre nous of office officer on operations or our partner partnerin people
    personal phone plc portable post presse press president presidente président présidente
    principal privacy product products program project prokurist prokuristin public publication
    qa quality recruiting relations research responsable road rue sa sales sarl sas scientist
    security senior service services sie software solutions staff standort strasse straße
    street str strategy success support svp sur team technik technology tel telefax telefon
    téléphone telephone the this trainee unser unsere uns us ux vertreten vertrieb vice vp we
    welcome wir with your über
    handelsregister amtsgericht registergericht registernummer register registry court hrb hra
    iban bic swift ust ustid steuernummer vat dot
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
)
# Words before a name that say the name is a legal representative, not a contact.
LEGAL_CUE = re.compile(
    r"(vertreten\s+durch|vertretungsberechtigt\w*|geschäftsführ\w*|inhaber(?:in)?|"
    r"verantwortlich\w*|v\.\s*i\.\s*s\.\s*d\.\s*p\.|represented\s+by|managing\s+directors?|"
    r"directeur\s+de\s+la\s+publication|directrice\s+de\s+la\s+publication|"
    r"responsable\s+de\s+la\s+publication|registered\s+by)\W{0,3}$",
    re.IGNORECASE,
)
_CAPS_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?\.?")


@dataclass(frozen=True)
class PageName:
    text: str
    start: int
    end: int
    legal: bool = False


def _fold(text: str) -> str:
    return anyascii(text).lower()


def _name_token(word: str) -> str | None:
    """``initial``, ``cap``, ``caps`` or ``particle`` for a word that may be part of a name."""
    bare = word.rstrip(".")
    if not bare:
        return None
    if bare.lower() in _PARTICLES and (bare.islower() or (len(bare) > 1 and word == bare)):
        # "van", and capitalised inside a name: "Benoît Le Goff", "Camille LE GOFF", "Gianni
        # De Luca" (a particle never starts or ends a name, see ``close``)
        return "particle"
    if len(bare) == 1 and bare.isupper() and word.endswith("."):
        return "initial"  # "L." in "Dominik L. Großmann" (before the word list: "l", "a" are in it)
    if _fold(bare).strip("'’-") in _NOT_NAME_WORDS or bare.lower() in _NOT_NAME_WORDS:
        return None
    if len(bare) == 1 and bare.isupper():
        return "initial"
    if word.endswith("."):
        return None  # an abbreviation ("Str.", "Tel."), not a name
    if bare[0].isupper() and any(ch.islower() for ch in bare[1:]):
        return "cap"
    if len(bare) >= 2 and bare.isupper() and _CAPS_WORD.fullmatch(bare):
        return "caps"  # "DUPONT", and with an apostrophe or hyphen inside: "N'DIAYE", "LE-ROY"
    return None


def _sentence_end(word: str) -> bool:
    """A capitalised word of 3+ letters ending a sentence (``Fox.``), not an abbreviation or a
    title (``Str.``, ``Tel.``, ``Ing.`` are listed words)."""
    bare = word[:-1] if word.endswith(".") else ""
    return (
        len(bare) >= 3
        and bare[0].isupper()
        and bare[1:].islower()
        and bare.lower() not in _HONORIFICS
        and _fold(bare) not in _NOT_NAME_WORDS
    )


def find_names(text: str) -> list[tuple[str, int, int]]:
    """People's names in ``text``: ``[(name, start, end)]`` with character offsets.

    A name is 2–4 words: capitalised words, initials (``J.``), lower-case particles inside
    (``Ludwig van Beethoven``) and all-caps surnames (``Marie DUPONT``), with at least one
    capitalised word (or, alone on its line or first on it before a separator, 2–3 words in
    capitals: ``ANNA ROTH``) and not
    ending on an initial or particle; job titles, section words,
    legal forms and the like (:data:`_NOT_NAME_WORDS`) never belong to a name.

    Args:
        text: plain text; names never span a line break.
    """
    names: list[tuple[str, int, int]] = []
    run: list[tuple[re.Match[str], str]] = []

    def close() -> None:
        while run and run[-1][1] in ("particle", "initial"):
            run.pop()
        while run and run[0][1] == "particle":
            run.pop(0)
        words = [kind for _, kind in run if kind != "particle"]
        start, end = (run[0][0].start(), run[-1][0].end()) if run else (0, 0)
        if 2 <= len(words) <= 4 and "cap" in words:
            names.append((text[start:end].rstrip("."), start, end))
        elif 2 <= len(words) <= 3 and set(words) == {"caps"} and _name_position(text, start, end):
            names.append((text[start:end], start, end))  # a heading in capitals: "ANNA ROTH"
        run.clear()

    previous_end = None
    for match in _WORD.finditer(text):
        gap = text[previous_end : match.start()] if previous_end is not None else ""
        kind = _name_token(match.group())
        joined = previous_end is not None and gap in (" ", "\u00a0", ". ", " \u00a0")
        if kind is None and joined and run and _sentence_end(match.group()):
            run.append((match, "cap"))  # "Ask Jane Fox." ends a sentence with a surname
            close()
            previous_end = match.end()
            continue
        if kind is None or not joined:
            close()
        if kind is not None:
            run.append((match, kind))
        previous_end = match.end()
    close()
    return names


def _name_position(text: str, start: int, end: int) -> bool:
    """Words in capitals are a name only where a name stands: alone on their line, or first on
    it before a separator (``ANNA ROTH, Vertrieb``; ``ANNA ROTH – Sales``)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else None]
    if text[line_start:start].strip():
        return False
    return not rest.strip() or bool(re.match(r"\s*[,–—|·•\t(]|\s+-\s", rest))


def _name_parts(name: str) -> list[str]:
    """Lower-case words of a name without honorifics (accents kept: :func:`_variants` folds)."""
    words = [w for w in re.split(r"[\s,]+", name.lower()) if w]
    words = [w.strip(".'’") for w in words if _fold(w.strip(".")) not in _HONORIFICS]
    return [w for w in words if w]


def split_name(name: str) -> tuple[str, str] | None:
    """``"Dr. Hanna Berg"`` → ``("Hanna", "Berg")``; ``"DUPONT Marie"`` → ``("Marie",
    "DUPONT")``; ``None`` without two words. Particles stay with the surname
    (``"Ludwig van Beethoven"`` → ``("Ludwig", "van Beethoven")``); the catalogue form
    ``"Berg, Hanna"`` is ``("Hanna", "Berg")``."""
    family, comma, given = name.partition(",")
    if comma and family.strip() and 1 <= len(given.split()) <= 2 and "," not in given:
        return given.strip(), family.strip()
    words = [w for w in re.split(r"\s+", name.strip()) if w.strip(".").lower() not in _HONORIFICS]
    if len(words) < 2:
        return None
    if words[0].isupper() and len(words[0]) > 1 and not words[-1].isupper():
        words = [*words[1:], words[0]]  # "DUPONT Marie": surname first in capitals
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def same_person(one: str, other: str) -> bool:
    """Whether two names seen on pages name one person (``"Dr. Li Wagner"`` and ``"WAGNER
    Li"``; not ``"Li Wagner"`` and ``"Li Kowalczyk"``), by :func:`name_score` either way."""
    for a, b in ((one, other), (other, one)):
        parts = split_name(a)
        if parts is not None and name_score(*parts, b) >= NAME_MATCH_THRESHOLD:
            return True
    return one.strip() == other.strip()


def distinct_people(names: Iterable[str]) -> list[str]:
    """``names`` with each person once (the first spelling seen; :func:`same_person`)."""
    people: list[str] = []
    for name in names:
        if not any(same_person(name, seen) for seen in people):
            people.append(name)
    return people


def _variants(word: str) -> set[str]:
    """A folded word and its German umlaut spelling (``jörg`` → ``jorg``, ``joerg``)."""
    lowered = word.lower()
    spelled = lowered.translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    return {w for w in (_fold(lowered), _fold(spelled)) if w}


def name_score(first: str, last: str, candidate: str) -> float:
    """How well ``candidate`` (a name seen on a page) names the person ``first last``: 0..100.

    Accents are folded (anyascii, with the German ``ö``→``oe``, ``ß``→``ss`` spelling tried
    too) and case and order are ignored (``Berg, Hanna``; ``DUPONT Marie``). There is no fuzzy
    matching: the surname must be the same word after folding (``Großmann`` = ``Grossmann``,
    but ``Schmidt`` is not ``Schmitt`` and ``Andersen`` is not ``Anderson``); the given name
    must be the same word after folding (``Michael`` is not ``Michaela``, ``Anna`` is not
    ``Hanna``) or its initial (``J. Großmann``).

    Returns:
        100.0 for the full name, :data:`INITIAL_MATCH_SCORE` when the given name is only an
        initial, 0.0 when the names do not match. Rank candidates by this score.
    """
    seen = _name_parts(candidate)
    firsts = [w for w in _name_parts(first) if len(w) > 1] or _name_parts(first)
    lasts = [w for w in _name_parts(last) if w not in _PARTICLES] or _name_parts(last)
    if not seen or not firsts or not lasts:
        return 0.0
    seen_variants = [_variants(w) for w in seen]

    def same(word: str, options: set[str]) -> bool:
        return bool(_variants(word) & options)

    last_at = next((i for i, options in enumerate(seen_variants) if same(lasts[0], options)), -1)
    if last_at < 0:
        # a surname of several words written together or apart ("van der Berg", "Müller
        # Lüdenscheidt" for "Müller-Lüdenscheidt"): compare without spaces and hyphens
        joined = {re.sub(r"[\s-]", "", v) for v in _variants(" ".join(lasts))}
        for i in range(len(seen)):
            for width in (1, 2, 3):
                words = seen[i : i + width]
                if len(words) == width and joined & {
                    re.sub(r"[\s-]", "", v) for v in _variants("".join(words))
                }:
                    last_at = i
                    break
            if last_at >= 0:
                break
        if last_at < 0:
            return 0.0
    others = [i for i in range(len(seen)) if i != last_at]
    if any(same(firsts[0], seen_variants[i]) for i in others):
        return 100.0
    # the given name written as an initial ("J. Großmann", "DUPONT M."); a middle initial
    # after another given name ("Sue K. Silva") is not Karl Silva's
    if others and len(seen[others[0]]) == 1 and _fold(seen[others[0]])[:1] == _fold(firsts[0])[:1]:
        return INITIAL_MATCH_SCORE
    return 0.0


_LEGAL_FORM_AFTER = re.compile(
    r"^\W{0,3}(?:inc|gmbh|ag|ltd|llc|plc|sarl|sas|sa|bv|nv|kg|ohg|ug|corp|co|limited|oy|ab|as|"
    r"aps|spa|srl|sl|pty)\b",
    re.IGNORECASE,
)
_POSTAL_LINE = re.compile(
    r"\b(?:street|st|str|straße|strasse|road|rd|avenue|ave|blvd|boulevard|rue|allee|platz|weg|"
    r"gasse|suite|floor|etage|postfach|p\.?\s?o\.?\s?box|zip|cedex)\b",
    re.IGNORECASE,
)
# Street words that are also surnames (Glenn Close, Anna Way): a street only after a house
# number ("1 Mill Lane", "12 Kings Court"), never the last digits of a phone number
_HOUSE_NUMBER_STREET = re.compile(
    r"(?<!\d[ ().\-])(?<![\d+])\b\d{1,5}[a-z]?,?\s+(?:[^\W\d_][\w'’-]*\s+){0,3}"
    r"(?:lane|ln|drive|way|court|ct|place|pl|"
    r"square|sq|close|crescent|terrace|parkway|pkwy|highway|hwy|plaza|row|mews|wharf|quay|"
    r"walk|green|hill|park|gardens|grove)\b",
    re.IGNORECASE,
)


_COMPANY_NAME = re.compile(
    r"\b[A-Z][\w&'’.-]*(?:\s+[A-Z&][\w&'’.-]*){0,3}\s*,?\s+(?:inc|gmbh|ag|ltd|llc|plc|sarl|"
    r"sas|s\.a\.s\.|sa|bv|nv|kg|ohg|ug|corp|limited|oy|ab|spa|srl|sl|pty)\b\.?"
)


def is_company_block(text: str) -> bool:
    """Whether a block of page text (holding no person's name) is the company's: it states a
    company with its legal form (``Acme Ltd``) or a postal address (``1 Mill Lane``,
    ``Musterstraße 1``); a number in it is the company's line, not the nearest person's."""
    for line in text.split("\n"):
        if _COMPANY_NAME.search(line):
            return True
        if _HOUSE_NUMBER_STREET.search(line):
            return True
        if _POSTAL_LINE.search(line) and re.search(r"\b\d{1,5}\b", line) and len(line) <= 120:
            return True
    return False


def people_in(text: str, names: list[tuple[str, int, int]]) -> list[PageName]:
    """The names that are people: not a company (``Notion Labs Inc.``), not on a postal-address
    line (``2300 Harrison St, San Francisco``); those after a legal cue are marked ``legal``."""
    people = []
    for name, start, end in names:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if _LEGAL_FORM_AFTER.match(text[end : end + 12]):
            continue
        if _POSTAL_LINE.search(line) and any(ch.isdigit() for ch in line):
            continue
        if _HOUSE_NUMBER_STREET.search(line):
            continue
        before = text[max(line_start, start - 60) : start]
        people.append(PageName(name, start, end, bool(LEGAL_CUE.search(before))))
    return people
