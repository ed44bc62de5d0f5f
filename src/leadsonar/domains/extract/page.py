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

_IMPRINT = re.compile(
    r"impressum|imprint|legal[-_ ]?notice|mentions[-_ ]?l[ée]gales|aviso[-_ ]?legal"
    r"|note[-_ ]?legali",
    re.IGNORECASE,
)
_LABEL_TAGS = frozenset({"dt", "th", "label"})


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
    phones: dict[str, PhoneFinding] = {}
    phone_owners: dict[str, set[str]] = {}
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
        above = text[previous_line_start : max(line_start - 1, 0)]
        if not _label_line(document, above, previous_line_start):
            above = ""  # a job title above the number in a card ("Support") is no label
        label = phone_label(before, text[end : end + 30], above)
        if label in COMPANY_LABELS:
            owner = None  # a switchboard, support or fax line is the company's
        elif owner is None and label in (None, "office") and item.element.in_sectioning:
            label = "main"  # nobody's number in the page's footer or header: the company's line
        if owner:
            phone_owners.setdefault(value, set()).add(owner)
        seen_phone = phones.get(value)
        found = PhoneFinding(value, label, owner, phone.mobile, item.source)
        if seen_phone is None:
            phones[value] = found
        elif (seen_phone.owner is None and owner) or (seen_phone.label is None and label):
            merged = seen_phone.label or label
            if label in COMPANY_LABELS:
                merged = label  # also printed as the company's line: never a person's
            phones[value] = PhoneFinding(
                value,
                merged,
                None if merged in COMPANY_LABELS else seen_phone.owner or owner,
                phone.mobile,
                seen_phone.source,
            )
    for value, owners in phone_owners.items():
        if len(distinct_people(owners)) > 1:  # in several people's cards: the company's line
            shared = phones[value]
            label = shared.label if shared.label != "direct" else None
            phones[value] = PhoneFinding(value, label, None, shared.mobile, shared.source)

    for found_emails, found_phones, found_names in (
        jsonld_findings(document.jsonld, region),
        markup_findings(document.tree, region),
        table_findings(document.tree, region),
    ):
        # markup that says whose an item is outranks the text's nearest name
        for email in found_emails:
            if email.address not in emails or email.owner:
                emails[email.address] = email
        for found_phone in found_phones:
            seen_phone = phones.get(found_phone.value)
            if seen_phone is None or found_phone.owner or found_phone.label in COMPANY_LABELS:
                phones[found_phone.value] = found_phone
        findings.names.extend(n for n in found_names if n not in findings.names)
    findings.emails = list(emails.values())
    findings.phones = list(phones.values())

    for href, start, end in document.links:
        if not href or href.lower().startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        findings.links.append((urljoin(url, href), re.sub(r"\s+", " ", text[start:end]).strip()))
    return findings
