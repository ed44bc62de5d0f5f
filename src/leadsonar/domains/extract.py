"""Web pages → the emails and phones they publish, and whose they are. Pure functions, no I/O.

:func:`extract_page` reads one HTML page (or :func:`extract_vcard` one vCard) and returns a
:class:`PageFindings`: each address and number found, the person it stands with (``owner``),
and for numbers a ``label`` (``fax``, ``support``, ``main``, ``direct``, ``mobile`` or ``None``).
The rules, each with its field case in ``shared/cases/field-cases.md``:

Emails
    * ``mailto:`` links are percent-decoded, their query (``?subject=…``) and spaces dropped
      (RFC 6068): ``mailto:%20info@example.com?subject=Hallo%20Team`` → ``info@example.com``
      (FC-11); percent-escapes in text are decoded the same way (``Team%3Cinfo@…%3E``).
    * plain text, after undoing the common obfuscations: ``[at]`` ``(at)`` ``{at}`` ``<at>``
      (also ``ät``, ``@``), ``[dot]`` ``(dot)`` ``{dot}`` (also ``punkt``, ``point``), ``name @
      domain`` and upper-case `` AT ``/`` DOT `` words (FC-08). Lower-case prose words are never
      read as ``@`` or ``.`` ("meet us at the fair, dot the i's" gives nothing). HTML entities
      are decoded by the parser.
    * an address starts at a letter or digit that does not follow a word character, ``.``,
      ``…``, ``%`` or ``+``: ``Kontakt: hanna.berg@…`` gives ``hanna.berg@…``, an elided
      ``hanna.be...@example.com`` gives nothing (FC-09).
    * the domain must end in a public suffix (or a reserved test TLD) and must not look like a
      file name: ``logo@2x.png`` and ``icon@3x.webp`` are not addresses (FC-10).
    * Cloudflare's email protection (``data-cfemail`` and ``/cdn-cgi/l/email-protection#…``:
      the first byte is the XOR key of the rest), JSON-LD ``Person``/``Organization``
      ``email``/``telephone`` (schema.org), and vCards ``EMAIL``/``TEL`` (RFC 6350).
Phones
    * libphonenumber's matcher (``phonenumbers.PhoneNumberMatcher``, leniency ``VALID``) on each
      line of text, with the region guessed by :func:`region_for` (the domain's country TLD, then
      the page's ``lang``, then ``US``); numbers written with ``+CC`` keep their country
      (``+47 406 12 345`` on a US page is Norwegian, mobile, FC-25); national forms use the
      region (``0151/23456789`` on .de → ``+4915123456789``, FC-27); ``+44 (0) 20 7946 0018`` →
      ``+442079460018`` (FC-28); extensions are kept (``650-555-0134x204`` → extension ``204``)
      and a bare ``ext.`` adds nothing (FC-24).
    * a match that begins inside a token (after a digit, or after ``/``, ``.``, ``-`` that follow
      a digit) or that looks like a date or a range of years is not a phone
      (``03/2015 – 03/2016``, FC-26).
    * the label comes from the words just before the number on its line (or on a short line
      just above it, as in ``<dt>Fax</dt><dd>…</dd>``) or in brackets right after it.
Owners
    * structured data names its owner (JSON-LD ``Person``, a vCard's ``FN``/``N``).
    * otherwise, from the element holding the address or number, the smallest enclosing element
      (at most :data:`MAX_CLIMB` levels up) that contains a person's name decides: one name owns
      it; among several, the nearest name before it with no other item of the same kind in
      between (else the nearest after it). The climb never goes past a ``footer``, ``header``,
      ``nav`` or ``aside``, and a name in a sibling block that is somebody's own card (several
      lines with items of its own) owns nothing outside it: the "Call us" line after the team
      cards is the company's. Names stated as a company's legal representative
      ("Vertreten durch", "Geschäftsführer", "Directeur de la publication"…) own only what
      stands on their own line (an imprint's switchboard is not the managing director's).
    * a person's name is 2–4 capitalised words (particles such as ``van``, ``de`` allowed; an
      all-caps surname as in ``Marie DUPONT``), none of them a job title, section word or legal
      form; :func:`name_score` compares names tolerant of accents, initials and order, never
      of near spellings (``Michaela`` is not ``Michael``, ``Schmitt`` is not ``Schmidt``).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import phonenumbers
from anyascii import anyascii
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from leadsonar.domains.candidates import is_role_local_part
from leadsonar.exceptions import BadRequest
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.phones import Phone, parse_phone

MAX_CLIMB = 6  # element levels searched above an item for its owner's name
MAX_OWNER_DISTANCE = 300  # characters between a name and an item it owns, at most
MAX_FOLLOWING_DISTANCE = 120  # … when the name comes after the item
LABEL_WINDOW = 40  # characters before a number searched for its label
NAME_MATCH_THRESHOLD = 85.0  # name_score (0..100) for two names to be one person
INITIAL_MATCH_SCORE = 85.0  # name_score when the given name is written as an initial

# -- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailFinding:
    """An address published on a page.

    Attributes:
        address: ``local@a-label-domain``, lower case.
        owner: the person it stands with, as written (``"Hanna Berg"``), or ``None``.
        source: ``mailto``, ``text``, ``cloudflare``, ``json-ld`` or ``vcard``.
    """

    address: str
    owner: str | None = None
    source: str = "text"


@dataclass(frozen=True)
class PhoneFinding:
    """A number published on a page.

    Attributes:
        value: E.164, with ``;ext=NNN`` when it has an extension (``+16505550134;ext=204``).
        label: ``fax``, ``support``, ``main``, ``direct``, ``mobile`` or ``None`` (unlabelled).
        owner: the person it stands with, or ``None``.
        mobile: libphonenumber calls it a mobile number.
        source: ``tel``, ``text``, ``json-ld`` or ``vcard``.
    """

    value: str
    label: str | None = None
    owner: str | None = None
    mobile: bool = False
    source: str = "text"


@dataclass
class PageFindings:
    """What one page publishes.

    Attributes:
        emails: addresses, each once, in page order.
        phones: numbers, each once, in page order (fax lines included, labelled ``fax``).
        names: people's names seen, in page order.
        title: the ``<title>`` text, or ``None``.
        site_name: ``og:site_name``, or ``None``.
        lang: the ``<html lang>`` value, or ``None``.
        links: ``(absolute URL, link text)`` of every ``<a href>``, in page order.
    """

    emails: list[EmailFinding] = field(default_factory=list)
    phones: list[PhoneFinding] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    title: str | None = None
    site_name: str | None = None
    lang: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


# -- names ----------------------------------------------------------------------------------------

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
_LEGAL_CUE = re.compile(
    r"(vertreten\s+durch|vertretungsberechtigt\w*|geschäftsführ\w*|inhaber(?:in)?|"
    r"verantwortlich\w*|v\.\s*i\.\s*s\.\s*d\.\s*p\.|represented\s+by|managing\s+directors?|"
    r"directeur\s+de\s+la\s+publication|directrice\s+de\s+la\s+publication|"
    r"responsable\s+de\s+la\s+publication|registered\s+by)\W{0,3}$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?\.?")


@dataclass(frozen=True)
class _Name:
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
    if bare.lower() in _PARTICLES and bare.islower():
        return "particle"
    if _fold(bare).strip("'’-") in _NOT_NAME_WORDS or bare.lower() in _NOT_NAME_WORDS:
        return None
    if len(bare) == 1 and bare.isupper():
        return "initial"
    if word.endswith("."):
        return None  # an abbreviation ("Str.", "Tel."), not a name
    if bare[0].isupper() and any(ch.islower() for ch in bare[1:]):
        return "cap"
    if len(bare) >= 2 and bare.isupper() and bare.isalpha():
        return "caps"
    return None


def find_names(text: str) -> list[tuple[str, int, int]]:
    """People's names in ``text``: ``[(name, start, end)]`` with character offsets.

    A name is 2–4 words: capitalised words, initials (``J.``), lower-case particles inside
    (``Ludwig van Beethoven``) and all-caps surnames (``Marie DUPONT``), with at least one
    capitalised word and not ending on an initial or particle; job titles, section words,
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
        if 2 <= len(words) <= 4 and "cap" in words:
            start, end = run[0][0].start(), run[-1][0].end()
            names.append((text[start:end].rstrip("."), start, end))
        run.clear()

    previous_end = None
    for match in _WORD.finditer(text):
        gap = text[previous_end : match.start()] if previous_end is not None else ""
        kind = _name_token(match.group())
        joined = previous_end is not None and gap in (" ", "\u00a0", ". ", " \u00a0")
        if kind is None or not joined:
            close()
        if kind is not None:
            run.append((match, kind))
        previous_end = match.end()
    close()
    return names


def _name_parts(name: str) -> list[str]:
    """Lower-case words of a name without honorifics (accents kept: :func:`_variants` folds)."""
    words = [w for w in re.split(r"[\s,]+", name.lower()) if w]
    words = [w.strip(".'’") for w in words if _fold(w.strip(".")) not in _HONORIFICS]
    return [w for w in words if w]


def split_name(name: str) -> tuple[str, str] | None:
    """``"Dr. Hanna Berg"`` → ``("Hanna", "Berg")``; ``"DUPONT Marie"`` → ``("Marie",
    "DUPONT")``; ``None`` without two words. Particles stay with the surname
    (``"Ludwig van Beethoven"`` → ``("Ludwig", "van Beethoven")``)."""
    words = [w for w in re.split(r"\s+", name.strip()) if w.strip(".").lower() not in _HONORIFICS]
    if len(words) < 2:
        return None
    if words[0].isupper() and len(words[0]) > 1 and not words[-1].isupper():
        words = [*words[1:], words[0]]  # "DUPONT Marie": surname first in capitals
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


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
    initials = {_fold(seen[i])[:1] for i in others if len(seen[i]) == 1}
    if _fold(firsts[0])[:1] in initials:
        return INITIAL_MATCH_SCORE
    return 0.0


# -- emails ---------------------------------------------------------------------------------------

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_BRACKETED = re.compile(rf"\s*{_OPEN}\s*(?:at|ät|@|arroba|chez)\s*{_CLOSE}\s*", re.I)
_DOT_BRACKETED = re.compile(rf"\s*{_OPEN}\s*(?:dot|punkt|point|punto|\.)\s*{_CLOSE}\s*", re.I)
_AT_SPACED = re.compile(r"(?<=[A-Za-z0-9_.+-])\s+@\s+(?=[^\W_])")
_AT_CAPS = re.compile(r"(?<=[A-Za-z0-9])\s+AT\s+(?=[A-Za-z0-9])")
_DOT_CAPS = re.compile(r"(?<=[A-Za-z0-9])\s+DOT\s+(?=[A-Za-z0-9])")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_EMAIL = re.compile(
    r"(?<![\w.%+…'’-])"
    r"([A-Za-z0-9](?:[A-Za-z0-9._+-]*[A-Za-z0-9_])?)"
    r"@((?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63})"
    r"(?![\w-]|\.[^\W_])"
)
_FILE_SUFFIXES = frozenset(
    "png jpg jpeg gif webp svg avif ico bmp tif tiff heic css js mjs map json xml pdf mp4 webm "
    "woff woff2 ttf eot otf".split()
)
_RETINA = re.compile(r"^\d+(?:\.\d+)?x$")


def _sub_mapped(
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    text: str,
    index: list[int],
) -> tuple[str, list[int]]:
    """``pattern.sub`` that also carries, for each output character, its offset in the input
    of the first call (``index``)."""
    out: list[str] = []
    out_index: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(text[last : match.start()])
        out_index.extend(index[last : match.start()])
        replacement = replace(match)
        out.append(replacement)
        out_index.extend([index[match.start()]] * len(replacement))
        last = match.end()
    out.append(text[last:])
    out_index.extend(index[last:])
    return "".join(out), out_index


def _percent_decode(match: re.Match[str]) -> str:
    decoded = unquote(match.group())
    return decoded if decoded.isprintable() else " "


def deobfuscate(text: str) -> tuple[str, list[int]]:
    """Undo percent-escapes and address obfuscations (FC-08, FC-11).

    Returns:
        ``(text, index)``: the rewritten text and, per character, its offset in ``text``.
    """
    index = list(range(len(text)))
    for pattern, replace in (
        (_PERCENT, _percent_decode),
        (_AT_BRACKETED, lambda m: "@"),
        (_DOT_BRACKETED, lambda m: "."),
        (_AT_SPACED, lambda m: "@"),
        (_AT_CAPS, lambda m: "@"),
        (_DOT_CAPS, lambda m: "."),
    ):
        text, index = _sub_mapped(pattern, replace, text, index)
    return text, index


def clean_address(raw: str) -> str | None:
    """A candidate address as ``local@a-label`` lower case, or ``None`` when it is not one
    (bad syntax, no public suffix, a file name like ``logo@2x.png``, FC-10)."""
    local, _, domain = raw.strip().rpartition("@")
    labels = domain.lower().split(".")
    if labels[-1] in _FILE_SUFFIXES or _RETINA.match(labels[0]) or _RETINA.match(local):
        return None
    try:
        return normalise_email(raw.strip(), allow_reserved=True)
    except BadRequest:
        return None


# Local parts that, in running text, are prose glued to a domain ("Follow us @ twitter.com",
# "©2024@acme.com", "Version 2.0@acme.com") rather than someone's address.
_PROSE_LOCAL = re.compile(r"[\d.]+|us|me|you|him|her|them|it|we|follow|visit|find")


def _prose_artifact(address: str) -> bool:
    return bool(_PROSE_LOCAL.fullmatch(address.partition("@")[0]))


def find_emails(text: str) -> list[tuple[str, int]]:
    """Addresses in plain text: ``[(address, offset in text)]``, each address once.

    See the module's rules (FC-08 to FC-11).
    """
    plain, index = deobfuscate(text)
    found: dict[str, int] = {}
    for match in _EMAIL.finditer(plain):
        address = clean_address(match.group())
        if address and _prose_artifact(address):
            continue
        if address and address not in found:
            found[address] = index[match.start()] if match.start() < len(index) else 0
    return list(found.items())


def mailto_addresses(href: str) -> list[str]:
    """The addresses of a ``mailto:`` URL (RFC 6068): percent-decoded, query dropped, several
    comma-separated addresses allowed; obfuscations undone (FC-11)."""
    body = href.strip()[len("mailto:") :].split("?", 1)[0]
    body = unquote(body)
    found = []
    for part in body.split(","):
        plain, _ = deobfuscate(part.strip())
        address = clean_address(plain.strip().strip("<>"))
        if address:
            found.append(address)
    return found


def decode_cfemail(hex_string: str) -> str | None:
    """Cloudflare's email protection: hex bytes, the first the XOR key of the others.

    ``decode_cfemail("543d3a323b14312c35392438317a373b39")`` → ``"info@example.com"``;
    ``None`` for malformed input or a result that is not an address.
    """
    try:
        data = bytes.fromhex(hex_string.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        decoded = bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return clean_address(decoded)


# -- phones ---------------------------------------------------------------------------------------

_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("fax", r"\b(?:tele)?fax\b|télécopie|(?<![\w.])f\s*[:.]"),
        (
            "support",
            r"support|hotline|help\s?desk|kundenservice|kundendienst|customer\s+(?:service|care)"
            r"|service\s+client|\bservice\b|assistance|\bsav\b|störung",
        ),
        (
            "mobile",
            r"\bmobile?\b|\bmobil\b|\bcell\b|cellular|handy|portable|\bgsm\b|(?<![\w.])m\s*[:.]",
        ),
        (
            "direct",
            r"\bdirect\b|\bdirekt\b|durchwahl|\bdw\b|ligne\s+directe|\bddi\b|(?<![\w.])d\s*[:.]",
        ),
        (
            "main",
            r"\bmain\b|zentrale|switchboard|reception|empfang|headquarters|\bhq\b|\boffice\b"
            r"|\bstandard\b|accueil|général|\bgeneral\b|b[üu]ro|siège|\bsede\b|centralino",
        ),
    )
)
_COMPANY_LABELS = frozenset({"fax", "support", "main"})
_DATE_LIKE = re.compile(
    r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"  # 12.03.2015, 3/12/15
    r"|\b\d{1,2}/(?:19|20)\d{2}\b"  # 03/2015
    r"|\b(?:19|20)\d{2}\s*[–—-]\s*(?:\d{1,2}/)?(?:19|20)\d{2}\b"  # 2015–2016, 2015 – 03/2016
    r"|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"  # ISO dates
)
_VANITY_TLDS = frozenset(
    "io co ai so me tv fm ly gg to cc ws sh ac la gl am im is it.com vc xyz app dev".split()
)
_LANG_REGIONS = {
    "de": "DE",
    "fr": "FR",
    "es": "ES",
    "it": "IT",
    "nl": "NL",
    "pt": "PT",
    "sv": "SE",
    "da": "DK",
    "nb": "NO",
    "nn": "NO",
    "no": "NO",
    "fi": "FI",
    "pl": "PL",
    "cs": "CZ",
    "ja": "JP",
    "ko": "KR",
    "zh": "CN",
}
_TLD_REGIONS = {"uk": "GB"}


def region_for(domain: str | None, lang: str | None = None) -> str:
    """The region national numbers on a page are read in (ISO 3166 alpha-2).

    The domain's country TLD first (``.de`` → ``DE``, ``.co.uk``/``.uk`` → ``GB``; TLDs used
    world-wide such as ``.io``, ``.co``, ``.ai``, ``.so`` do not count), then the page's
    ``lang`` (``de-AT`` → ``AT``, ``fr`` → ``FR``), else ``US``.
    """
    if domain:
        tld = domain.lower().rstrip(".").rsplit(".", 1)[-1]
        if tld in _TLD_REGIONS:
            return _TLD_REGIONS[tld]
        if tld not in _VANITY_TLDS and tld.upper() in phonenumbers.SUPPORTED_REGIONS:
            return tld.upper()
    if lang:
        parts = re.split(r"[-_]", lang.strip())
        if len(parts) > 1 and parts[1].upper() in phonenumbers.SUPPORTED_REGIONS:
            return parts[1].upper()
        if parts[0].lower() in _LANG_REGIONS:
            return _LANG_REGIONS[parts[0].lower()]
    return "US"


def phone_label(before: str, after: str = "", above: str = "") -> str | None:
    """The label of a number from the words around it.

    Args:
        before: the text just before the number on its line (only the last
            :data:`LABEL_WINDOW` characters count, and the nearest label wins).
        after: the text just after it; only a label in brackets right after counts
            (``"(Fax)"``).
        above: the previous line, used when ``before`` has no words (``<dt>Fax</dt>``); only
            when it is short (a label, not a sentence).

    Returns:
        ``fax``, ``support``, ``mobile``, ``direct``, ``main`` or ``None``.
    """

    def nearest(text: str) -> str | None:
        best: tuple[int, str] | None = None
        for label, pattern in _LABELS:
            for match in pattern.finditer(text):
                if best is None or match.end() > best[0]:
                    best = (match.end(), label)
        return best[1] if best else None

    window = before[-LABEL_WINDOW:]
    label = nearest(window)
    if label:
        return label
    bracket = re.match(r"\s*[\(\[]([^)\]]{1,25})[\)\]]", after)
    if bracket:
        label = nearest(bracket.group(1))
        if label:
            return label
    if not re.search(r"\w", window) and above and len(above.strip()) <= 30:
        return nearest(above)
    return None


def _starts_inside_token(line: str, start: int) -> bool:
    if start == 0:
        return False
    previous = line[start - 1]
    if previous.isdigit():
        return True
    return previous in "/.-–" and start >= 2 and line[start - 2].isdigit()


def phone_value(phone: Phone) -> str:
    """The value a number is stored and compared by: E.164 plus ``;ext=NNN``."""
    return f"{phone.e164};ext={phone.extension}" if phone.extension else phone.e164


# Words that make the number after them an identifier, not a phone: order, invoice, tracking,
# customer and register numbers, bank and tax ids (en, de, fr).
_NOT_PHONE_BEFORE = re.compile(
    r"(?:order|invoice|tracking|shipment|reference|ref|account|customer\s+no|case|ticket"
    r"|bestell\w*|rechnung\w*|auftrag\w*|kunden\w*|vorgang\w*|sendung\w*|konto\w*"
    r"|commande|facture|iban|bic|swift|hrb|hra|ust\w*|steuer\w*|vat|siret|siren|isbn)"
    r"(?:\s+(?:number|nummer|no|nr|num[ée]ro|id))?[\s#:.\-–°]*$|#\s*$",
    re.IGNORECASE,
)


def find_phones(text: str, region: str) -> list[tuple[Phone, int, int]]:
    """Numbers in plain text: ``[(phone, start, end)]``, line by line (FC-24 to FC-28).

    A number right after an identifier word (order, invoice, tracking, Bestellnummer, IBAN,
    HRB, ``#``) is an identifier, not a phone.

    Args:
        text: plain text.
        region: the region for national forms (:func:`region_for`).
    """
    found: list[tuple[Phone, int, int]] = []
    offset = 0
    for line in text.split("\n"):
        if any(ch.isdigit() for ch in line):
            for match in PhoneNumberMatcher(line, region, leniency=Leniency.VALID):
                if _starts_inside_token(line, match.start) or _DATE_LIKE.search(match.raw_string):
                    continue
                if _NOT_PHONE_BEFORE.search(line[max(0, match.start - 30) : match.start]):
                    continue
                rfc3966 = phonenumbers.format_number(match.number, PhoneNumberFormat.RFC3966)
                phone = parse_phone(rfc3966)
                if phone is not None:
                    found.append((phone, offset + match.start, offset + match.end))
        offset += len(line) + 1
    return found


# -- the HTML document ----------------------------------------------------------------------------

_BLOCKS = frozenset(
    """address article aside blockquote body caption dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p pre
    section summary table tbody tfoot thead tr ul""".split()
)
_CELLS = frozenset({"td", "th"})
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object", "head"})
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_AUTO_CLOSE = {
    "p": frozenset({"p"}),
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
}
_SCOPES = frozenset({"ul", "ol", "dl", "table", "tbody", "thead", "tfoot", "div", "section"})


@dataclass
class _Element:
    tag: str
    start: int
    parent: _Element | None
    end: int = -1


@dataclass
class _Item:
    kind: str  # "email" or "phone"
    value: str  # address, or tel: href / raw number
    offset: int
    element: _Element
    source: str


class _Document(HTMLParser):
    """One pass over HTML: linear text with block breaks, element spans, links, items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.root = _Element("#root", 0, None)
        self.stack: list[_Element] = [self.root]
        self.chunks: list[int] = []  # start offsets of text chunks
        self.chunk_elements: list[_Element] = []
        self.items: list[_Item] = []
        self.links: list[tuple[str, int, int]] = []  # href, start and end offsets of its text
        self._open_links: list[tuple[str, _Element]] = []
        self.skip_depth = 0
        self.title: str | None = None
        self._in_title = False
        self.site_name: str | None = None
        self.lang: str | None = None
        self.jsonld: list[str] = []
        self._jsonld_buffer: list[str] | None = None

    # text plumbing
    def _append(self, text: str) -> None:
        if not text:
            return
        self.chunks.append(self.length)
        self.chunk_elements.append(self.stack[-1])
        self.parts.append(text)
        self.length += len(text)

    def _break(self, mark: str = "\n") -> None:
        last = self.parts[-1][-1:] if self.parts else "\n"
        if last == "\n" or (mark != "\n" and last in (" ", "\t")):
            return
        self._append(mark)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def element_at(self, offset: int) -> _Element:
        position = bisect.bisect_right(self.chunks, offset) - 1
        return self.chunk_elements[position] if position >= 0 else self.root

    # parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "") for k, v in attrs}
        if tag == "html" and values.get("lang"):
            self.lang = values["lang"]
        if tag == "meta":
            prop = (values.get("property") or values.get("name") or "").lower()
            if prop == "og:site_name" and values.get("content"):
                self.site_name = values["content"].strip()
            if values.get("http-equiv", "").lower() == "content-language" and not self.lang:
                self.lang = values.get("content")
            return
        if tag == "title":
            self._in_title = True
            return
        if tag == "script" and values.get("type", "").lower() == "application/ld+json":
            self._jsonld_buffer = []
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self._break()
            return
        if tag in _VOID:
            self._cf(values)
            return
        closes = _AUTO_CLOSE.get(tag)
        if closes:
            for position in range(len(self.stack) - 1, 0, -1):
                open_tag = self.stack[position].tag
                if open_tag in closes:
                    self._close_to(position)
                    break
                if open_tag in _SCOPES:
                    break
        if tag in _BLOCKS:
            self._break()
        elif tag in _CELLS:
            self._break("\t")
        element = _Element(tag, self.length, self.stack[-1])
        self.stack.append(element)
        self._cf(values)
        if tag == "a":
            href = values.get("href", "").strip()
            self._open_links.append((href, element))
            lowered = href.lower()
            if lowered.startswith("mailto:"):
                for address in mailto_addresses(href):
                    self.items.append(_Item("email", address, self.length, element, "mailto"))
            elif lowered.startswith("tel:") or lowered.startswith("callto:"):
                number = unquote(href.split(":", 1)[1])
                self.items.append(_Item("phone", number, self.length, element, "tel"))
            elif "/cdn-cgi/l/email-protection#" in lowered:
                address = decode_cfemail(href.rsplit("#", 1)[1])
                if address:
                    self.items.append(_Item("email", address, self.length, element, "cloudflare"))

    def _cf(self, values: dict[str, str]) -> None:
        if values.get("data-cfemail"):
            address = decode_cfemail(values["data-cfemail"])
            if address:
                self.items.append(
                    _Item("email", address, self.length, self.stack[-1], "cloudflare")
                )

    def _close_to(self, position: int) -> None:
        while len(self.stack) > position:
            element = self.stack.pop()
            element.end = self.length
            if element.tag == "a" and self._open_links and self._open_links[-1][1] is element:
                href, _ = self._open_links.pop()
                self.links.append((href, element.start, element.end))
            if element.tag in _BLOCKS:
                self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if tag == "script" and self._jsonld_buffer is not None:
            self.jsonld.append("".join(self._jsonld_buffer))
            self._jsonld_buffer = None
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth or tag in _VOID:
            return
        for position in range(len(self.stack) - 1, 0, -1):
            if self.stack[position].tag == tag:
                self._close_to(position)
                return

    def handle_data(self, data: str) -> None:
        if self._jsonld_buffer is not None:
            self._jsonld_buffer.append(data)
            return
        if self._in_title:
            self.title = ((self.title or "") + data).strip() or None
            return
        if self.skip_depth:
            return
        text = re.sub(r"\s+", " ", data)
        if self.parts and self.parts[-1][-1:] in ("\n", " ", "\t"):
            text = text.lstrip(" ")
        self._append(text)

    def finish(self) -> None:
        self.close()
        self._close_to(1)
        self.root.end = self.length


def _parse(html: str) -> _Document:
    document = _Document()
    document.feed(html)
    document.finish()
    return document


# -- owners ---------------------------------------------------------------------------------------


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


def _people(text: str, names: list[tuple[str, int, int]]) -> list[_Name]:
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
        before = text[max(line_start, start - 60) : start]
        people.append(_Name(name, start, end, bool(_LEGAL_CUE.search(before))))
    return people


_SECTIONING = frozenset({"footer", "header", "nav", "aside"})


def _child_of(node: _Element, element: _Element) -> _Element | None:
    """The child of ``node`` on the way down to ``element`` (``None`` if not below it)."""
    while element.parent is not None and element.parent is not node:
        element = element.parent
    return element if element.parent is node else None


def _owner(
    text: str,
    names: list[_Name],
    offset: int,
    element: _Element,
    same_kind: list[int],
    name_elements: dict[int, _Element] | None = None,
    item_offsets: list[int] | None = None,
) -> str | None:
    """The name owning the item at ``offset`` (see the module's *Owners* rules).

    The search climbs from the item's element, but never past a sectioning element
    (``footer``, ``header``, ``nav``, ``aside``: a footer's line is not the last team card's),
    and a name in a sibling block that is somebody's own card (a block of several lines
    holding items of its own), or in a sibling sectioning element, owns nothing outside it.
    """
    node: _Element | None = element
    child: _Element | None = None
    excluded: set[int] = set()  # names in a sibling card stay excluded further up
    for _ in range(MAX_CLIMB):
        if node is None:
            return None
        inside = [
            n
            for n in names
            if node.start <= n.start < max(node.end, node.start + 1) and n.start not in excluded
        ]
        if child is not None and name_elements is not None:
            for n in inside:
                if _in_sibling_card(
                    text, node, child, name_elements.get(n.start), offset, item_offsets or []
                ):
                    excluded.add(n.start)
            inside = [n for n in inside if n.start not in excluded]
        if inside:
            return _pick(text, inside, offset, same_kind)
        if node.tag in _SECTIONING:
            return None
        child, node = node, node.parent
    return None


def _in_sibling_card(
    text: str,
    node: _Element,
    child: _Element,
    name_element: _Element | None,
    offset: int,
    item_offsets: list[int],
) -> bool:
    if name_element is None:
        return False
    block = _child_of(node, name_element)
    if block is None or block is child:
        return False
    if block.tag in _SECTIONING:
        return True
    if block.tag not in _BLOCKS and block.tag not in _CELLS:
        return False
    if block.tag in _CELLS or "\n" not in text[block.start : block.end].strip("\n"):
        return False  # a heading, a cell, a one-line block: a label for what follows
    return any(block.start <= other < block.end for other in item_offsets if other != offset)


def _pick(text: str, names: list[_Name], offset: int, same_kind: list[int]) -> str | None:
    def clear_between(a: int, b: int) -> bool:
        # another item of the same kind in between, on another line, belongs to that line
        return not any(
            a < other < b and "\n" in text[min(other, offset) : max(other, offset)]
            for other in same_kind
            if other != offset
        )

    def usable(name: _Name) -> bool:
        if name.legal:
            low, high = sorted((name.start, offset))
            return "\n" not in text[low:high]
        return True

    before = [n for n in names if n.end <= offset and offset - n.end <= MAX_OWNER_DISTANCE]
    if before:
        name = max(before, key=lambda n: n.end)
        return name.text if clear_between(name.end, offset) and usable(name) else None
    after = [n for n in names if n.start >= offset and n.start - offset <= MAX_FOLLOWING_DISTANCE]
    if after:
        name = min(after, key=lambda n: n.start)
        return name.text if clear_between(offset, name.start) and usable(name) else None
    return None


# -- structured data ------------------------------------------------------------------------------


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def jsonld_findings(
    sources: list[str], region: str
) -> tuple[list[EmailFinding], list[PhoneFinding], list[str]]:
    """Emails, phones and names from JSON-LD blocks (schema.org ``Person``, ``Organization``
    and its subtypes, ``ContactPoint``); invalid JSON is skipped.

    A ``Person``'s ``email``/``telephone`` are owned by its ``name`` (or ``givenName`` +
    ``familyName``); an organisation's ``telephone`` is its ``main`` line and its ``faxNumber``
    a ``fax``; a ``ContactPoint``'s number is labelled from its ``contactType``.
    """
    emails: list[EmailFinding] = []
    phones: list[PhoneFinding] = []
    names: list[str] = []
    for source in sources:
        try:
            data = json.loads(source)
        except ValueError:
            continue
        for node in _walk(data):
            types = _types(node)
            if not types:
                continue
            owner = None
            label: str | None = "main"
            if "person" in types:
                given = " ".join(_strings(node.get("givenName")))
                family = " ".join(_strings(node.get("familyName")))
                owner = " ".join(_strings(node.get("name"))) or f"{given} {family}".strip() or None
                if owner:
                    names.append(owner)
                label = None
            elif "contactpoint" in types:
                label = phone_label(" ".join(_strings(node.get("contactType")))) or "main"
            for raw in _strings(node.get("email")):
                address = clean_address(unquote(raw.removeprefix("mailto:")))
                if address:
                    emails.append(EmailFinding(address, owner, "json-ld"))
            for key, key_label in (("telephone", label), ("faxNumber", "fax")):
                for raw in _strings(node.get(key)):
                    phone = parse_phone(raw.removeprefix("tel:"), region)
                    if phone:
                        phones.append(
                            PhoneFinding(
                                phone_value(phone), key_label, owner, phone.mobile, "json-ld"
                            )
                        )
    return emails, phones, names


def extract_vcard(text: str, region: str = "US") -> PageFindings:
    """Emails and phones of the people in a vCard file (RFC 6350; vCard 3 and 4).

    Lines are unfolded (§3.2); ``FN`` (or ``N``, ``Family;Given``) names the owner; ``TEL`` is
    labelled from its ``TYPE``: ``fax`` → ``fax``, ``cell`` → ``mobile``, ``work``/``voice`` →
    ``direct``.
    """
    findings = PageFindings()
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    for card in re.findall(r"BEGIN:VCARD(.*?)END:VCARD", unfolded, re.S | re.I):
        entries: list[tuple[str, str, str]] = []
        for line in card.splitlines():
            head, sep, value = line.partition(":")
            if not sep:
                continue
            name, *params = head.split(";")
            entries.append((name.rsplit(".", 1)[-1].upper(), ";".join(params).lower(), value))
        owner = next((v.strip() for n, _, v in entries if n == "FN" and v.strip()), None)
        if owner is None:
            parts = next((v.split(";") for n, _, v in entries if n == "N"), None)
            if parts and len(parts) > 1:
                owner = f"{parts[1]} {parts[0]}".strip() or None
        if owner:
            findings.names.append(owner)
        for name, params, value in entries:
            if name == "EMAIL":
                address = clean_address(value.removeprefix("mailto:"))
                if address:
                    findings.emails.append(EmailFinding(address, owner, "vcard"))
            elif name == "TEL":
                phone = parse_phone(value.removeprefix("tel:"), region)
                if phone is None:
                    continue
                label = (
                    "fax"
                    if "fax" in params
                    else "mobile"
                    if "cell" in params
                    else "direct"
                    if owner
                    else None
                )
                findings.phones.append(
                    PhoneFinding(phone_value(phone), label, owner, phone.mobile, "vcard")
                )
    return findings


# -- one page -------------------------------------------------------------------------------------


def extract_page(
    html: str, url: str, *, domain: str | None = None, lang: str | None = None
) -> PageFindings:
    """Everything one HTML page publishes (see the module's rules).

    Args:
        html: the page's HTML (text/plain works too).
        url: the page's URL; links are made absolute against it.
        domain: the company's domain, for the phone region (default: the URL's host).
        lang: the site's language (its home page's ``lang``), used when this page has none.

    Returns:
        A :class:`PageFindings`; each address and number once (the occurrence with an owner or
        a label preferred), in page order.
    """
    document = _parse(html)
    text = document.text
    region = region_for(domain or urlsplit(url).hostname, document.lang or lang)
    names = _people(text, find_names(text))

    items = list(document.items)
    for address, offset in find_emails(text):
        items.append(_Item("email", address, offset, document.element_at(offset), "text"))
    phone_hits = find_phones(text, region)
    phone_texts: dict[int, tuple[Phone, int]] = {start: (p, end) for p, start, end in phone_hits}
    phone_ends = sorted(end for _, _, end in phone_hits)
    for phone, start, _ in phone_hits:
        items.append(_Item("phone", phone_value(phone), start, document.element_at(start), "text"))
    items.sort(key=lambda item: item.offset)
    offsets = {
        kind: [item.offset for item in items if item.kind == kind] for kind in ("email", "phone")
    }

    all_offsets = [item.offset for item in items]
    name_elements = {n.start: document.element_at(n.start) for n in names}

    findings = PageFindings(
        names=list(dict.fromkeys(n.text for n in names)),
        title=document.title,
        site_name=document.site_name,
        lang=document.lang,
    )
    emails: dict[str, EmailFinding] = {}
    phones: dict[str, PhoneFinding] = {}
    for item in items:
        owner = _owner(
            text, names, item.offset, item.element, offsets[item.kind], name_elements, all_offsets
        )
        if item.kind == "email":
            if is_role_local_part(item.value.partition("@")[0]):
                owner = None  # info@, vertrieb@ … belong to the company
            seen = emails.get(item.value)
            if seen is None or (seen.owner is None and owner):
                emails[item.value] = EmailFinding(item.value, owner, item.source)
            continue
        if item.source == "tel":
            phone = parse_phone(item.value, region)
            if phone is None:
                continue
            value = phone_value(phone)
            end = item.offset
        else:
            phone, end = phone_texts[item.offset]
            value = item.value
        line_start = text.rfind("\n", 0, item.offset) + 1
        previous_line_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
        # the words since the line's start or since the number before this one on its line
        earlier = bisect.bisect_right(phone_ends, item.offset)
        since = max(line_start, phone_ends[earlier - 1]) if earlier else line_start
        before = text[since : item.offset]
        label = phone_label(
            before, text[end : end + 30], text[previous_line_start : max(line_start - 1, 0)]
        )
        if label in _COMPANY_LABELS:
            owner = None  # a switchboard, support or fax line is the company's
        seen_phone = phones.get(value)
        found = PhoneFinding(value, label, owner, phone.mobile, item.source)
        if seen_phone is None:
            phones[value] = found
        elif (seen_phone.owner is None and owner) or (seen_phone.label is None and label):
            phones[value] = PhoneFinding(
                value,
                seen_phone.label or label,
                seen_phone.owner or owner,
                phone.mobile,
                seen_phone.source,
            )

    structured_emails, structured_phones, structured_names = jsonld_findings(
        document.jsonld, region
    )
    for email in structured_emails:
        if email.address not in emails or (email.owner and not emails[email.address].owner):
            emails[email.address] = email
    for found_phone in structured_phones:
        if found_phone.value not in phones or found_phone.owner:
            phones[found_phone.value] = found_phone
    findings.names.extend(n for n in structured_names if n not in findings.names)
    findings.emails = list(emails.values())
    findings.phones = list(phones.values())

    for href, start, end in document.links:
        if not href or href.lower().startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        findings.links.append((urljoin(url, href), re.sub(r"\s+", " ", text[start:end]).strip()))
    return findings
