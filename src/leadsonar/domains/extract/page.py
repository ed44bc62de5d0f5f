"""One HTML page → :class:`PageFindings`."""

from __future__ import annotations

import bisect
import re
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from leadsonar.domains.candidates import is_role_local_part
from leadsonar.domains.extract.emails import find_emails
from leadsonar.domains.extract.html import Document, Element, Item, parse_html
from leadsonar.domains.extract.models import EmailFinding, PageFindings, PhoneFinding
from leadsonar.domains.extract.names import distinct_people, find_names, people_in
from leadsonar.domains.extract.owners import owner_of
from leadsonar.domains.extract.phones import (
    COMPANY_LABELS,
    find_phones,
    label_start,
    phone_label,
    phone_value,
    region_for,
)
from leadsonar.domains.extract.structured import (
    jsonld_findings,
    markup_findings,
    table_findings,
)
from leadsonar.kit.phones import Phone, parse_phone

# sources that name the owner outright: structured data and tables read by their header row
_STRUCTURED = frozenset({"json-ld", "vcard", "markup", "table"})
_VISIBLE_STRUCTURED = frozenset({"markup", "table"})  # also printed in the page's text


def merge_phones(occurrences: list[PhoneFinding]) -> list[PhoneFinding]:
    """Each number once, in page order, from every place it is printed or stated.

    The owner stated by structured data (JSON-LD, h-card, microdata, a table's person column)
    outranks the text's, and then only structured labels count (a job title beside the number
    in the card's text is no label); else the first label seen is kept. A number is the
    company's (no owner; labelled ``main`` unless ``fax`` or ``support``) when a label says
    fax, support or main, when several people own it, or when it is printed once more than the
    cards and rows that own it, with nobody's name (the "Call us" line repeating the number
    shown in one card) and no JSON-LD or vCard says whose it is.
    """
    grouped: dict[str, list[PhoneFinding]] = {}
    for found in occurrences:
        grouped.setdefault(found.value, []).append(found)
    merged = []
    for value, seen in grouped.items():
        stated = [f for f in seen if f.owner and f.source in _STRUCTURED]
        labelled = [f for f in seen if f.source in _STRUCTURED] if stated else seen
        labels = [f.label for f in labelled if f.label]
        company = next((label for label in labels if label in COMPANY_LABELS), None)
        owners = distinct_people([f.owner for f in stated] or [f.owner for f in seen if f.owner])
        printed = [f for f in seen if f.source not in _STRUCTURED]
        visible_cards = sum(1 for f in stated if f.source in _VISIBLE_STRUCTURED)
        owned_prints = sum(1 for f in printed if f.owner)
        declared = any(f.source not in _VISIBLE_STRUCTURED for f in stated)  # JSON-LD, vCard
        if stated and company is None and len(printed) > visible_cards:
            # printed once more than the cards stating it: a switchboard or fax label there
            # (a footer's "Zentrale") counts; a job title inside the card does not
            company = next(
                (f.label for f in printed if f.owner is None and f.label in ("main", "fax")),
                None,
            )
        loose = (
            not declared
            and any(f.owner is None for f in printed)
            and len(printed) > max(visible_cards, owned_prints)
        )
        if company or len(owners) > 1 or (owners and loose):
            label = company or "main"
            merged.append(PhoneFinding(value, label, None, seen[0].mobile, seen[0].source))
            continue
        source = next((f.source for f in seen if f.owner), seen[0].source)
        merged.append(
            PhoneFinding(
                value,
                labels[0] if labels else None,
                owners[0] if owners else None,
                seen[0].mobile,
                source,
            )
        )
    return merged


_IMPRINT = re.compile(
    r"impressum|imprint|legal[-_ ]?notice|mentions[-_ ]?l[ée]gales|aviso[-_ ]?legal"
    r"|note[-_ ]?legali",
    re.IGNORECASE,
)
_LABEL_TAGS = frozenset({"dt", "th", "label"})
# a link to one person's own file or page, by its path or its text: a vCard download (RFC 6350
# files end in .vcf; "vCard", "vCard herunterladen"), or a card's "Profile"/"Read more" link
_PERSON_FILE_PATH = re.compile(r"\.vcf$|/v-?card(?:/|$)", re.IGNORECASE)
_PERSON_LINK_TEXT = re.compile(
    r"^(?:download\s+)?v-?card\b|\bv-?card$|^(?:(?:view|see)\s+)?(?:full\s+)?(?:profile|bio)$"
    r"|^read\s+more$|^more$|^profil(?:\s+ansehen)?$|^mehr(?:\s+erfahren)?$|^voir\s+le\s+profil$"
    r"|^en\s+savoir\s+plus$",
    re.IGNORECASE,
)


def _label_line(document: Document, line: str, start: int) -> bool:
    """Whether the line above a number labels it: it ends with a colon (``Fax:``) or is a
    definition term or header cell (``<dt>Zentrale</dt><dd>…</dd>``)."""
    if line.rstrip().endswith(":"):
        return True
    element: Element | None = document.element_at(start)
    for _ in range(3):
        if element is None:
            return False
        if element.tag in _LABEL_TAGS:
            return True
        element = element.parent
    return False


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
    document = parse_html(html)
    text = document.text
    region = region_for(domain or urlsplit(url).hostname, document.lang or lang)
    names = people_in(text, find_names(text))
    if _IMPRINT.search(urlsplit(url).path) or _IMPRINT.search(document.title or ""):
        # a legal notice names its representatives; its numbers are the company's unless
        # printed on the very line of a name
        names = [replace(n, legal=True) for n in names]

    items = list(document.items)
    for address, offset in find_emails(text):
        items.append(Item("email", address, offset, document.element_at(offset), "text"))
    phone_hits = find_phones(text, region)
    phone_texts: dict[int, tuple[Phone, int]] = {start: (p, end) for p, start, end in phone_hits}
    phone_ends = sorted(end for _, _, end in phone_hits)
    for phone, start, _ in phone_hits:
        items.append(Item("phone", phone_value(phone), start, document.element_at(start), "text"))
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
    occurrences: list[PhoneFinding] = []  # every number each time it is printed
    for item in items:
        owner = owner_of(
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
            phone = parse_phone(item.value, region, possible=True)  # the page says it is one
            if phone is None:
                continue
            value = phone_value(phone)
            end = item.offset
            link = item.element
            if any(
                link.start <= start < max(link.end, link.start + 1) and phone_value(p) == value
                for p, start, _ in phone_hits
            ):
                continue  # the link's own text prints the number: one printing, read there
        else:
            phone, end = phone_texts[item.offset]
            value = item.value
        line_start = text.rfind("\n", 0, item.offset) + 1
        previous_line_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
        # the words since the line's start or since the number before this one on its line
        earlier = bisect.bisect_right(phone_ends, item.offset)
        since = max(line_start, phone_ends[earlier - 1]) if earlier else line_start
        before = text[since : item.offset]
        above = text[previous_line_start : max(line_start - 1, 0)]
        if not _label_line(document, above, previous_line_start):
            above = ""  # a job title above the number in a card ("Support") is no label
        label = phone_label(before, text[end : end + 30], above)
        if label in ("support", "office", "main") and phone_label(before) == label:
            # a department word in another element without a colon ("<span>Customer
            # Support</span> <a href=tel:…>", "<span>Reception</span>") is a job title beside
            # the number, not its label
            at = label_start(before, label)
            if at is not None and ":" not in before[at:]:
                holder: Element | None = item.element
                label_element = document.element_at(since + at)
                while holder is not None and holder is not label_element:
                    holder = holder.parent
                if holder is None:
                    label = None
        if label in COMPANY_LABELS:
            owner = None  # a switchboard, support or fax line is the company's
        elif owner is None and label in (None, "office") and item.element.in_sectioning:
            label = "main"  # nobody's number in the page's footer or header: the company's line
        occurrences.append(PhoneFinding(value, label, owner, phone.mobile, item.source))

    for found_emails, found_phones, found_names in (
        jsonld_findings(document.jsonld, region),
        markup_findings(document.tree, region),
        table_findings(document.tree, region),
    ):
        # markup that says whose an item is outranks the text's nearest name
        for email in found_emails:
            if email.address not in emails or email.owner:
                emails[email.address] = email
        occurrences.extend(found_phones)
        findings.names.extend(n for n in found_names if n not in findings.names)
    findings.emails = list(emails.values())
    findings.phones = merge_phones(occurrences)

    for href, start, end in document.links:
        if not href or href.lower().startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        target = urljoin(url, href)
        link_text = re.sub(r"\s+", " ", text[start:end]).strip()
        findings.links.append((target, link_text))
        if _PERSON_FILE_PATH.search(urlsplit(target).path) or _PERSON_LINK_TEXT.search(link_text):
            # a vCard download or profile link in a person's card is theirs (the card rule of
            # :func:`owner_of`); what the file or page says is read from it, whoever it names
            owner = owner_of(
                text, names, start, document.element_at(start), [], name_elements, all_offsets
            )
            if owner:
                findings.person_links.append((target, owner))
    return findings
