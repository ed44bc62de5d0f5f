"""Numbers in text: region, labels, identifiers that are not phones (FC-24 … FC-28)."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatch, PhoneNumberMatcher

from leadsonar.kit.phones import Phone, parse_phone, plausible_number, range_type

LABEL_WINDOW = 40  # characters before a number searched for its label

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
            r"(?:main|head|registered)\s+office|\bmain\b|zentrale|switchboard|reception|empfang"
            r"|headquarters|\bhq\b|\bstandard\b|accueil|général|\bgeneral\b|siège|\bsede\b"
            r"|centralino",
        ),
        # a desk line: in a person's card it is theirs, on its own the company's
        ("office", r"\boffice\b|\bb[üu]ro\b|\bbureau\b|\bfestnetz\b|\bfixe\b"),
    )
)
_TITLE_WORDS = frozenset({"reception", "empfang", "accueil"})  # main-line words that are jobs too
_NEW_FIELD = re.compile(r"[·|,;•–—/\t]|\s-\s")  # a separator: the number starts a new field
COMPANY_LABELS = frozenset({"fax", "support", "main"})  # never a person's, whatever stands near
_DATE_LIKE = re.compile(
    # 12.03.2015, 3/12/15: a day and a month that can be one, not a group of a longer dotted
    # number ("01.55.25.89.95", the French way of writing 01 55 25 89 95, is no date)
    r"(?<![\d./])(?:0?[1-9]|[12]\d|3[01])([./])(?:0?[1-9]|1[0-2])\1\d{2,4}(?![\d]|[./]\d)"
    r"|(?<![\d./])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/\d{2,4}(?![\d]|[./]\d)"
    r"|\b\d{1,2}/(?:19|20)\d{2}\b"  # 03/2015
    r"|\b(?:19|20)\d{2}\s*[–—-]\s*(?:\d{1,2}/)?(?:19|20)\d{2}\b"  # 2015–2016, 2015 – 03/2016
    r"|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"  # ISO dates
)
# a dotted run starting with one-digit groups is a version or an address ("4.4.7700.900123",
# "10.0.0.12"), not a number: no country writes a phone number's first two groups that short
_VERSION_LIKE = re.compile(r"^\d\.\d{1,2}\.\d")
# words right before a number that say it is one: the field's labels (en, de, fr) and the
# one-letter ones of cards ("T +44 …", "M: …", "D …")
_PHONE_CUE = re.compile(
    r"(?:\b(?:tel(?:efon|ephone)?|t[ée]l(?:[ée]phone)?|phone|mobile?|mobil|cell(?:ular)?|handy"
    r"|portable|gsm|direct(?:\s+(?:line|dial))?|direkt(?:wahl)?|durchwahl|ligne\s+directe|ddi"
    r"|(?:tele)?fax)|(?<![\w.])[tmdf])\s*\.?\s*:?\s*$",
    re.IGNORECASE,
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
        word = ""
        for label, pattern in _LABELS:
            for match in pattern.finditer(text):
                if best is None or match.end() > best[0]:
                    best = (match.end(), label)
                    word = match.group().lower()
        if best is None:
            return None
        if best[1] == "main" and word in _TITLE_WORDS and _NEW_FIELD.search(text[best[0] :]):
            return None  # "Reception – T: …": a receptionist's job title, then their number
        # "Head of Support · Tel. …", "Support Engineer – 030 …": after a separator the number
        # is a new field; a department word before it was a job title, not the number's label
        if best[1] in ("support", "office") and _NEW_FIELD.search(text[best[0] :]):
            return None
        return best[1]

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


def label_start(before: str, label: str) -> int | None:
    """Where in ``before`` the nearest word giving ``label`` starts (see :func:`phone_label`),
    or ``None``."""
    window_start = max(0, len(before) - LABEL_WINDOW)
    pattern = dict(_LABELS)[label]
    last = None
    for match in pattern.finditer(before, window_start):
        last = match
    return last.start() if last is not None else None


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


def _marked(line: str, start: int) -> bool:
    """Whether the words right before ``start`` say a phone number follows (``Tel.:``,
    ``Mobile``, ``Ligne directe :``, ``T``)."""
    return bool(_PHONE_CUE.search(line[max(0, start - 30) : start]))


def _matches(line: str, region: str, marked: bool = False) -> list[PhoneNumberMatch]:
    """libphonenumber's valid matches in ``line``, plus well-formed numbers in a reserved
    fictional range (Ofcom's drama numbers, :data:`~leadsonar.kit.phones.FICTIONAL_RANGES`)
    that its metadata calls invalid, plus possible numbers (right length, range unknown to the
    metadata) that the text marks as phone numbers (:func:`_marked`, or ``marked``: the whole
    line is a phone field) and that overlap no valid match; in line order."""
    matches = list(PhoneNumberMatcher(line, region, leniency=Leniency.VALID))
    for match in PhoneNumberMatcher(line, region, leniency=Leniency.POSSIBLE):
        if phonenumbers.is_valid_number(match.number):
            continue
        if range_type(match.number) is None:
            if (
                (marked or _marked(line, match.start))
                and plausible_number(match.raw_string, match.number, region)
                and not any(match.start < m.end and m.start < match.end for m in matches)
            ):
                matches.append(match)
            continue
        overlapping = [m for m in matches if match.start < m.end and m.start < match.end]
        # a valid match inside a longer fictional one is a fragment of it read in the page's
        # region ("+44 (0)7700 900 124" on a .de page is not the German "07700 900124")
        if all(match.start < m.start and m.end <= match.end for m in overlapping):
            matches = [m for m in matches if m not in overlapping] + [match]
    return sorted(matches, key=lambda m: m.start)


def find_phones(text: str, region: str, *, marked: bool = False) -> list[tuple[Phone, int, int]]:
    """Numbers in plain text: ``[(phone, start, end)]``, line by line (FC-24 to FC-28).

    A number right after an identifier word (order, invoice, tracking, Bestellnummer, IBAN,
    HRB, ``#``) is an identifier, not a phone. A number libphonenumber's metadata does not
    know the range of (but whose length fits) is read only where the text says it is a phone
    number (``Tel.:``, ``Mobile``, ``Ligne directe :`` right before it), or with ``marked``.

    Args:
        text: plain text.
        region: the region for national forms (:func:`region_for`).
        marked: the text is a phone field (a table column headed Phone, an h-card ``tel``).
    """
    found: list[tuple[Phone, int, int]] = []
    offset = 0
    for line in text.split("\n"):
        if any(ch.isdigit() for ch in line):
            for match in _matches(line, region, marked):
                if _starts_inside_token(line, match.start) or _DATE_LIKE.search(match.raw_string):
                    continue
                if _VERSION_LIKE.match(match.raw_string):
                    continue
                if _NOT_PHONE_BEFORE.search(line[max(0, match.start - 30) : match.start]):
                    continue
                rfc3966 = phonenumbers.format_number(match.number, PhoneNumberFormat.RFC3966)
                phone = parse_phone(rfc3966, possible=True)  # vetted by _matches
                if phone is not None:
                    found.append((phone, offset + match.start, offset + match.end))
        offset += len(line) + 1
    return found
