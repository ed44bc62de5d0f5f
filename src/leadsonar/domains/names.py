"""Person names → the ASCII forms that email local parts are built from.

A name is turned into one or more *spellings* (:class:`NameForms`), most likely first. Every
form is ``[a-z0-9]+``, or such runs joined by a single ``-`` (a hyphenated name, ``jean-luc``) or
``.`` (a multi-part surname, ``navarro.quintero``); :mod:`leadsonar.domains.candidates` decides
which patterns may use a joined form. Letters are transliterated, never deleted (field cases
FC-01, FC-02 in ``shared/cases/field-cases.md``).

Rules, in the order they apply to each of ``first`` and ``last``:

1. NFC, lower case; text in brackets or double quotes (nicknames, ``(née Jones)``) is dropped.
2. Apostrophes (``' ’ ‘ ʼ ʻ ` ´``) are removed inside a token, along with any space after
   them: ``O'Keeffe`` and ``O' Keeffe`` → ``okeeffe``, never ``o.keeffe`` (FC-05); anyascii's
   soft-sign apostrophe (``Dar'ya``) likewise.
3. Transliteration with anyascii. Two letter classes have a second common spelling, and a name
   that contains them gets two spellings, each applied consistently to the whole name:
   German ``ä ö ü`` → ``ae oe ue`` or ``a o u`` (``ß`` is always ``ss``); the ``oe`` spelling
   comes first on a .de/.at/.ch/.li domain, the plain one elsewhere (FC-03). Cyrillic →
   ICAO Doc 9303 Part 3 (the passport transliteration, ``Дарья`` → ``daria``) first, anyascii's
   BGN/PCGN-like form (``darya``) second (FC-02).
4. Symbols (emoji, ``+``, ``©``) and anything but ``[a-z0-9-]`` after transliteration separate
   tokens; stray and repeated hyphens are dropped.
5. Titles (``Dr``, ``Prof``, ``Dipl.-Ing.``…) are stripped from the front and suffixes (``Jr``,
   ``III``, ``PhD``…) from the end of either field, even when nothing is left: a field holding
   only ``Dr.`` has no name in it.
6. A one-letter word after the given name or before the surname (``Daniel J.``, ``J. Moreau``)
   is a middle initial, kept apart (``middle_initials``) for the middle-initial patterns
   (``daniel.j.moreau``, ``djmoreau``) that companies use to tell namesakes apart.

A name that yields no letters gives empty tuples; nothing here raises.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from anyascii import anyascii

__all__ = ["NameForms", "name_forms"]


# name_forms answers kept (one per person and domain a lookup asked for recently)
NAME_FORMS_CACHED = 4096


@dataclass(frozen=True)
class NameForms:
    """One spelling of a person's name, as the forms address patterns are built from.

    Every tuple is ordered most likely first and has no duplicates; any may be empty.

    Attributes:
        firsts: given-name forms, e.g. ``("jeanluc", "jean-luc", "jean")`` for ``Jean-Luc`` or
            ``("maryann", "mary")`` for ``Mary Ann``.
        lasts: surname forms, e.g. ``("navarro", "navarroquintero", "navarro.quintero")`` for
            ``Navarro Quintero`` (FC-06) or ``("vanderberg", "berg")``.
        first_initials: e.g. ``("jl", "j")`` for ``Jean-Luc``, ``("m", "ma")`` for ``Mary Ann``.
        last_initials: the first letter of each separator-free surname form, e.g. ``("v", "b")``.

    A name part made of single letters (``J.``, ``B.``) is an initial: it fills the initials and
    leaves the forms empty.
        family_first: the name is written in Han or Hangul script, whose convention puts the
            family name first; address patterns may follow either order (FC-02).
        middle_initials: the initial of a middle name, e.g. ``("j",)`` for ``Daniel J.`` /
            ``Moreau`` or ``Daniel`` / ``J. Moreau``, ``("k",)`` for ``Sarah Kate``; empty
            when the name has none.
        middle_given: the middle came as an explicit initial (``Daniel J.``), which callers
            write to tell a person from a same-name colleague: the middle-initial address
            forms (``daniel.j.moreau``) are then the most likely ones (issue 8 §3).
    """

    firsts: tuple[str, ...] = ()
    lasts: tuple[str, ...] = ()
    first_initials: tuple[str, ...] = ()
    last_initials: tuple[str, ...] = ()
    family_first: bool = False
    middle_initials: tuple[str, ...] = ()
    middle_given: bool = False


# Domains whose mail systems mostly spell umlauts out (ä → ae): German-speaking ccTLDs.
_UMLAUT_TLDS = frozenset({"de", "at", "ch", "li"})
# Portuguese naming puts the surname a person goes by last ("Pereira Santos" → "santos").
_LAST_SURNAME_TLDS = frozenset({"pt", "br"})

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|\"[^\"]*\"|“[^”]*”")
_APOSTROPHE_CHARS = "'’‘ʼʻ`´′ʹ＇"
_APOSTROPHES = str.maketrans("", "", _APOSTROPHE_CHARS)
_APOSTROPHE_SPACE = re.compile(f"([{_APOSTROPHE_CHARS}])\\s+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
# ICAO Doc 9303 Part 3, section 6, Cyrillic table (lower case; ь is omitted).
_CYRILLIC_ICAO = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "d", "ѓ": "g",
        "е": "e", "ё": "e", "є": "ie", "ж": "zh", "з": "z", "ѕ": "dz", "и": "i", "і": "i",
        "ї": "i", "й": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
        "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c", "ќ": "k",
        "у": "u", "ў": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "џ": "dz", "ш": "sh",
        "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
    }
)  # fmt: skip
_NOT_TOKEN = re.compile(r"[^a-z0-9-]+")
# The ASCII symbols (Unicode category S: ``$ + < = > ^ ` | ~``) as token separators.
_ASCII_SYMBOLS = str.maketrans(
    {chr(c): " " for c in range(128) if unicodedata.category(chr(c))[0] == "S"}
)
_FAMILY_FIRST_SCRIPT = re.compile(
    "[\u1100-\u11ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002ffff]"
)

_TITLES = frozenset(
    "mr mrs ms miss mx dr dra prof sir dame rev herr frau mme mlle dott sig sra srta "
    "ing dipl mag univ".split()
)
_SUFFIXES = frozenset(
    "jr sr ii iii iv phd md mba esq dds dmd cpa cfa msc bsc jd llm mpa rn".split()
)
# Leading surname particles that addresses often drop (van der Berg → berg).
_PARTICLES = frozenset(
    "van von der den de del della dei degli di da das dos do du des la le lo les "
    "ter ten te zu zum zur am al el bin binti bint ibn abu".split()
)


@functools.lru_cache(maxsize=NAME_FORMS_CACHED)
def name_forms(
    first: str, last: str, domain: str | None = None, *, umlauts_first: bool | None = None
) -> tuple[NameForms, ...]:
    """Spell a person's name as address-ready forms.

    Memoised (the last ``NAME_FORMS_CACHED`` names; the forms are immutable): one lookup
    spells its person's name several times (the prober, the crawl's owner checks, the
    waterfall's screening of every finding).

    Args:
        first: the given name(s) as entered, any script; may be empty.
        last: the surname(s) as entered, any script; may be empty.
        domain: the company's mail domain; only its last label is read, to order the umlaut
            spellings (FC-03) and to pick the surname Portuguese naming goes by (.pt/.br).
        umlauts_first: put the spelled-out umlaut form (``joerg``) first, or the plain one
            (``jorg``); ``None`` decides by the domain's TLD. Callers pass what the domain's
            known addresses show.

    Returns:
        One :class:`NameForms` per distinct spelling, most likely first; always at least one
        (with empty tuples when the name has no letters or digits). Names without umlauts or
        Cyrillic letters have exactly one spelling.
    """
    tld = (domain or "").strip().rstrip(".").rsplit(".", 1)[-1].lower()
    if umlauts_first is None:
        umlauts_first = tld in _UMLAUT_TLDS
    family_first = bool(_FAMILY_FIRST_SCRIPT.search(first + last))
    spellings: list[NameForms] = []
    ways: tuple[tuple[bool, bool], ...] = ((umlauts_first, True), (not umlauts_first, False))
    if (first + last).isascii():
        ways = ways[:1]  # no umlaut, no Cyrillic: both ways spell the name alike
    for expand_umlauts, icao in ways:
        first_tokens, last_tokens = (
            _tokens(first, expand_umlauts, icao),
            _tokens(last, expand_umlauts, icao),
        )
        first_tokens, last_tokens, middles, given = _split_middle(first_tokens, last_tokens)
        firsts, first_initials = _first_forms(first_tokens)
        lasts, last_initials = _last_forms(last_tokens, tld in _LAST_SURNAME_TLDS)
        spelling = NameForms(
            firsts, lasts, first_initials, last_initials, family_first, middles, given
        )
        if spelling not in spellings:
            spellings.append(spelling)
    return tuple(spellings)


def _tokens(text: str, expand_umlauts: bool, icao: bool) -> list[str]:
    """ASCII tokens of one name field, titles and suffixes stripped (module rules 1-5)."""
    if text.isascii():  # most names: nothing to normalise, transliterate or look up per letter
        text = _plain_ascii(text)
    else:
        text = _transliterated(text, expand_umlauts, icao)
    tokens = []
    for raw in _NOT_TOKEN.sub(" ", text).split():
        token = "-".join(part for part in raw.split("-") if part)
        if token:
            tokens.append(token)
    while tokens and _is_one_of(tokens[0], _TITLES):
        tokens.pop(0)
    while tokens and _is_one_of(tokens[-1], _SUFFIXES):
        tokens.pop()
    return tokens


def _transliterated(text: str, expand_umlauts: bool, icao: bool) -> str:
    """Rules 1-4 up to the token split, for any text: lower-case ASCII."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _APOSTROPHE_SPACE.sub(r"\1", _BRACKETED.sub(" ", text)).translate(_APOSTROPHES)
    if expand_umlauts:
        text = text.translate(_UMLAUTS)
    if icao:
        text = text.translate(_CYRILLIC_ICAO)
    # Symbols are not names: anyascii would spell an emoji out (🙂 → ":slight_smile:").
    text = "".join(" " if unicodedata.category(char)[0] == "S" else char for char in text)
    return anyascii(text).lower().translate(_APOSTROPHES)


def _plain_ascii(text: str) -> str:
    """:func:`_transliterated` for ASCII text (NFC, umlauts, Cyrillic and anyascii change
    nothing there), in a quarter of the time."""
    text = _APOSTROPHE_SPACE.sub(r"\1", _BRACKETED.sub(" ", text.lower()))
    return text.translate(_APOSTROPHES).translate(_ASCII_SYMBOLS)


def _split_middle(
    first: list[str], last: list[str]
) -> tuple[list[str], list[str], tuple[str, ...], bool]:
    """Take a middle initial out of the name fields: ``(first, last, middle initials, given
    as an initial)``.

    A one-letter word after a given name (``Daniel J.``) or before a surname (``J. Moreau``)
    is a middle initial; a second given-name word (``Sarah Kate``) may be a middle name or half
    of a double given name (``Mary Ann``), so it stays in the given name and only lends its
    initial. A name of initials only (``J. R.``) has no middle.
    """
    middles: list[str] = []
    given = False
    while len(first) > 1 and len(first[-1]) == 1 and any(len(t) > 1 for t in first[:-1]):
        middles.insert(0, first.pop())
        given = True
    while len(last) > 1 and len(last[0]) == 1 and len(last[1]) > 1 and last[0] not in _PARTICLES:
        middles.append(last.pop(0))
        given = True
    if not middles and len(first) == 2 and "-" not in first[1] and len(first[1]) > 1:
        middles.append(first[1][0])
    return first, last, tuple(dict.fromkeys(middles)), given


def _first_forms(tokens: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Given-name forms and initials.

    A hyphenated name is one name (``Jean-Luc``: ``jeanluc``, ``jean-luc``, ``jean``; initials
    ``jl`` then ``j``, the French ``J.-L.``), never its second part alone (FC-05). Several words
    (``Mary Ann``, or a first plus a middle name) give the joined form, then the first word;
    there the single initial comes first, as middle initials are usually left out. A name of
    one-letter parts (``J.``, ``J. R.``) is initials only and gives no forms.
    """
    if not tokens:
        return (), ()
    parts = [part for token in tokens for part in token.split("-")]
    compound = "".join(part[0] for part in parts)
    initials = [compound, parts[0][0]] if len(tokens) == 1 else [parts[0][0], compound]
    if all(len(part) == 1 for part in parts):
        return (), _dedupe(initials)
    forms = ["".join(parts)]
    if len(tokens) == 1:
        forms.append(tokens[0])
    else:
        forms.append(tokens[0].replace("-", ""))
    forms.append(parts[0])
    return _dedupe(forms), _dedupe(initials)


def _last_forms(
    tokens: list[str], last_surname_first: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Surname forms and initials: with leading particles, then without; multi-part surnames
    first part first.

    ``Navarro Quintero`` → ``navarro``, ``navarroquintero``, ``navarro.quintero`` (Spanish
    naming: the first surname is the one used; FC-06); on .pt/.br, where the last surname is
    the one used, ``quintero`` leads. ``van der Berg`` → ``vanderberg``, ``berg``;
    ``Al-Hassan`` → ``alhassan``, ``al-hassan``, ``hassan``. A hyphenated surname gives joined,
    hyphenated, then first part. Initials are the first letter of each separator-free form. A
    surname of one-letter parts (``B.``) is an initial only, for ``l`` slots, not ``last`` ones:
    ``Lena``/``B.`` gives ``lena.b`` and ``lenab``, never ``b`` or ``b.lena`` (FC-13).
    """
    if all(len(part) == 1 for token in tokens for part in token.split("-")):
        return (), tuple(tokens[0][:1]) if tokens else ()
    core = list(tokens)
    particles: list[str] = []
    while len(core) > 1 and core[0] in _PARTICLES:
        particles.append(core.pop(0))
    attached = ""
    if core and "-" in core[0] and core[0].split("-", 1)[0] in _PARTICLES:
        attached, core[0] = core[0].split("-", 1)
    if len(core) == 1:
        parts = core[0].split("-")
        core_forms = ["".join(parts), core[0], parts[0]]
    else:
        words = [token.replace("-", "") for token in core]
        core_forms = [words[0], "".join(words), ".".join(words)]
        if last_surname_first:
            core_forms.insert(0, words[-1])
    core_forms = list(_dedupe(core_forms))
    prefix = "".join(particles) + attached
    forms = core_forms
    if prefix:
        forms = [prefix + form for form in core_forms] + core_forms
        if attached and core_forms[0].isalnum():
            forms.insert(1, f"{prefix}-{core_forms[0]}")
    forms = list(_dedupe(forms))
    return tuple(forms), _dedupe(form[0] for form in forms if form.isalnum())


def _is_one_of(token: str, words: frozenset[str]) -> bool:
    """``Dipl.-Ing.`` is a title: every hyphen part of the token is one of ``words``."""
    return all(part in words for part in token.split("-"))


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


_LOCAL_TOKEN = re.compile(r"[a-z]+")


def local_part_fit(local_part: str, first: str, last: str) -> str:
    """How an address's local part fits a person's name: ``fits``, ``unclear`` or ``other``.

    ``fits``: a word of the local part is one of the name's forms, starts one (``chris`` for
    Christopher, ``j`` for Jane) or starts with one (``ameliem``, ``jsmith`` contains
    ``smith``). ``other``: the local part spells two or more words (``pauline.ndiaye``) none
    of which belongs to the name — a colleague's address a source tied to the wrong row.
    ``unclear``: one word that is none of the name's (a nickname, ``bob`` for Robert, or an
    arbitrary mailbox). Role addresses are the caller's concern
    (:func:`~leadsonar.domains.candidates.is_role_local_part`).

    Args:
        local_part: the part before ``@``, any case; digits and ``+tag`` are ignored.
        first, last: the person's names as entered.
    """
    local = local_part.split("+", 1)[0].lower()
    words = _LOCAL_TOKEN.findall(local)
    if not words:
        return "unclear"
    forms: set[str] = set()
    for spelling in name_forms(first, last):
        for form in (*spelling.firsts, *spelling.lasts):
            forms.update(_LOCAL_TOKEN.findall(form))
            forms.add(_NOT_TOKEN.sub("", form.replace("-", "")))
        forms.update(spelling.first_initials + spelling.last_initials + spelling.middle_initials)
    forms.discard("")
    joined = "".join(words)
    for word in words:
        for form in forms:
            if len(form) >= 4 and form in joined:
                return "fits"
            if len(form) >= 2 and (
                form.startswith(word) or word.startswith(form) or word.endswith(form)
            ):
                return "fits"
            if len(form) == 1 and len(word) <= 3 and word.startswith(form):
                return "fits"
    return "other" if len(words) >= 2 else "unclear"
