"""Structured data: the markup that says whose a number or address is.

* **JSON-LD** (schema.org): a ``Person``'s ``email``/``telephone``, and those of the
  ``ContactPoint`` objects inside it, are the person's (``name``, or ``givenName`` +
  ``familyName``); an ``Organization``'s (and its subtypes') ``telephone`` is its ``main`` line,
  its ``faxNumber`` a ``fax``, a ``ContactPoint`` directly under it is labelled from its
  ``contactType``. A ``Person``'s ``worksFor``/``affiliation`` organisation stays the
  company's: its switchboard is never the person's. Lists (``employee``, ``member``,
  ``@graph``) are walked to any depth; invalid JSON is skipped.
* **vCard** (RFC 6350, vCard 3 and 4): ``FN``/``N`` own ``EMAIL``/``TEL``.
* **microformats** h-card (``p-name``, ``p-tel``, ``u-email``) and the older ``vcard``
  (``fn``, ``tel``, ``email``, with ``type``/``value`` parts), and schema.org **microdata**
  (``itemtype=…/Person`` with ``itemprop=name``/``telephone``/``email``).
* **tables** with a header row: a row per person, the name in a ``Name`` column (also in the
  catalogue order, ``Schmidt, Anna``) or in ``First name``/``Last name`` columns, numbers in
  columns whose header says phone, direct, mobile, fax … (the header is the number's label).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser, LexborNode

from leadsonar.domains.extract.emails import clean_address, find_emails, mailto_addresses
from leadsonar.domains.extract.models import EmailFinding, PageFindings, PhoneFinding
from leadsonar.domains.extract.names import find_names
from leadsonar.domains.extract.phones import find_phones, phone_label, phone_value
from leadsonar.kit.phones import parse_phone

_SPACE = re.compile(r"\s+")
_ORGANISATION_TYPES = frozenset(
    """organization corporation localbusiness ngo educationalorganization
    governmentorganization medicalorganization professionalservice store""".split()
)
_EMPLOYER_KEYS = frozenset({"worksfor", "affiliation", "memberof", "parentorganization"})


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _person_name(node: dict[str, Any]) -> str | None:
    given = " ".join(_strings(node.get("givenName")))
    family = " ".join(_strings(node.get("familyName")))
    name = " ".join(_strings(node.get("name"))) or f"{given} {family}".strip()
    return _SPACE.sub(" ", name).strip() or None


def _jsonld_nodes(
    node: Any, owner: str | None, label: str | None, depth: int = 0
) -> Iterator[tuple[dict[str, Any], str | None, str | None, bool]]:
    """``(node, owner, label, is_person)`` for every typed object, the owner and label
    inherited from the nearest enclosing ``Person`` or organisation."""
    if depth > 32:
        return
    if isinstance(node, list):
        for value in node:
            yield from _jsonld_nodes(value, owner, label, depth + 1)
        return
    if not isinstance(node, dict):
        return
    types = _types(node)
    is_person = "person" in types
    if is_person:
        owner, label = _person_name(node), None
    elif types & _ORGANISATION_TYPES or any(t.endswith("organization") for t in types):
        owner, label = None, "main"
    elif "contactpoint" in types:
        contact = phone_label(" ".join(_strings(node.get("contactType"))))
        label = contact or label or (None if owner else "main")
    if types:
        yield node, owner, label, is_person
    for key, value in node.items():
        if key.lower() in _EMPLOYER_KEYS:
            yield from _jsonld_nodes(value, None, "main", depth + 1)
        elif isinstance(value, dict | list):
            yield from _jsonld_nodes(value, owner, label, depth + 1)


def jsonld_findings(
    sources: list[str], region: str
) -> tuple[list[EmailFinding], list[PhoneFinding], list[str]]:
    """Emails, phones and names from JSON-LD blocks (see the module's rules).

    Returns:
        ``(emails, phones, names)``; a person's items carry their ``owner``.
    """
    emails: list[EmailFinding] = []
    phones: list[PhoneFinding] = []
    names: list[str] = []
    for source in sources:
        try:
            data = json.loads(source)
        except ValueError:
            continue
        for node, owner, label, is_person in _jsonld_nodes(data, None, None):
            if is_person and owner and owner not in names:
                names.append(owner)
            for raw in _strings(node.get("email")):
                address = clean_address(unquote(raw.removeprefix("mailto:")))
                if address:
                    emails.append(EmailFinding(address, owner, "json-ld"))
            for key, key_label in (("telephone", label), ("faxNumber", "fax")):
                for raw in _strings(node.get(key)):
                    phone = parse_phone(raw.removeprefix("tel:"), region, possible=True)
                    if phone:
                        phones.append(
                            PhoneFinding(
                                phone_value(phone),
                                key_label,
                                owner if key_label not in ("fax", "main") else None,
                                phone.mobile,
                                "json-ld",
                            )
                        )
    return emails, phones, names


# -- markup: h-card, vcard, microdata ----------------------------------------------------------


def _text(node: LexborNode) -> str:
    return _SPACE.sub(" ", node.text(separator=" ")).strip()


def _first(node: LexborNode, selector: str) -> LexborNode | None:
    return node.css_first(selector)


def _card_values(card: LexborNode, selectors: str, scheme: str) -> list[tuple[str, str]]:
    """``(value, context text)`` of the parts matching ``selectors`` in ``card``: the link's
    target without ``scheme`` when it has one, else the part's ``value``/``content`` or text."""
    values = []
    for part in card.css(selectors):
        href = (part.attributes.get("href") or "").strip()
        content = part.attributes.get("content") or part.attributes.get("value") or ""
        inner = part.css_first(".value")
        if href.lower().startswith(scheme):
            value = unquote(href.split(":", 1)[1])
        elif content.strip():
            value = content
        elif inner is not None:
            value = _text(inner)
        else:
            value = _text(part)
        values.append((value, _text(part)))
    return values


def markup_findings(
    tree: LexborHTMLParser, region: str
) -> tuple[list[EmailFinding], list[PhoneFinding], list[str]]:
    """Emails, phones and names from h-card, classic ``vcard`` and schema.org ``Person``
    microdata (see the module's rules). A card without a name gives nothing."""
    emails: list[EmailFinding] = []
    phones: list[PhoneFinding] = []
    names: list[str] = []
    kinds = (
        (".h-card", ".p-name", ".p-tel", ".u-email"),
        (".vcard", ".fn", ".tel", ".email"),
        (
            '[itemtype*="schema.org/Person"]',
            '[itemprop="name"]',
            '[itemprop="telephone"]',
            '[itemprop="email"]',
        ),
    )
    for card_selector, name_selector, tel_selector, email_selector in kinds:
        for card in tree.css(card_selector):
            name_node = _first(card, name_selector)
            owner = _text(name_node) if name_node is not None else ""
            if not owner or not find_names(owner):
                continue
            owner = find_names(owner)[0][0]
            if owner not in names:
                names.append(owner)
            for value, context in _card_values(card, tel_selector, "tel:"):
                phone = parse_phone(value, region, possible=True)
                if phone is None:
                    continue
                label = phone_label(context.replace(value, " "))
                if label in ("fax", "main", "support"):
                    phones.append(
                        PhoneFinding(phone_value(phone), label, None, phone.mobile, "markup")
                    )
                else:
                    phones.append(
                        PhoneFinding(phone_value(phone), label, owner, phone.mobile, "markup")
                    )
            for value, _ in _card_values(card, email_selector, "mailto:"):
                for address in mailto_addresses(f"mailto:{value}"):
                    emails.append(EmailFinding(address, owner, "markup"))
    return emails, phones, names


# -- tables -------------------------------------------------------------------------------------

_NAME_HEADER = re.compile(
    r"^(?:full\s*)?name$|^(?:employee|person|contact|mitarbeiter(?:in)?|ansprechpartner(?:in)?"
    r"|nom(?:\s+et\s+pr[ée]nom)?|pr[ée]nom\s+(?:et\s+)?nom|nombre|nome)$|^name\s*[,/]",
    re.IGNORECASE,
)
_FIRST_HEADER = re.compile(
    r"^(?:first\s*name|given\s*name|forename|vorname|pr[ée]nom|nombre)$", re.IGNORECASE
)
_LAST_HEADER = re.compile(
    r"^(?:last\s*name|surname|family\s*name|nachname|familienname|nom(?:\s+de\s+famille)?"
    r"|apellidos?)$",
    re.IGNORECASE,
)
_PHONE_HEADER = re.compile(
    r"phone|tel\b|telefon|t[ée]l[ée]phone|mobile?|mobil|cell|handy|portable|direct|durchwahl"
    r"|\bfax\b|ligne|contact|number|nummer|num[ée]ro",
    re.IGNORECASE,
)
_EMAIL_HEADER = re.compile(r"e-?mail|courriel|mail", re.IGNORECASE)


def _catalogue_order(cell: str) -> str:
    """A name cell in the catalogue order, ``"Schmidt, Anna"`` or ``"SCHMIDT, Anna"``, as
    ``"Anna Schmidt"``; any other cell unchanged (only in a name column: elsewhere ``"Berlin,
    Germany"`` is not a person)."""
    family, comma, given = cell.partition(",")
    if comma and "," not in given and 1 <= len(given.split()) <= 2 and family.strip():
        return f"{given.strip()} {family.strip()}"
    return cell


def _cells(row: LexborNode) -> list[LexborNode]:
    return [c for c in row.iter() if c.tag in ("td", "th")]


def _rows(table: LexborNode) -> list[LexborNode]:
    """The table's own rows (not those of a table nested in a cell)."""
    return [row for row in table.css("tr") if _closest_table(row) == table]


def _closest_table(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent


def table_findings(
    tree: LexborHTMLParser, region: str
) -> tuple[list[EmailFinding], list[PhoneFinding], list[str]]:
    """Emails, phones and names from tables with a header row naming a person column (see
    the module's rules); a table without one gives nothing."""
    emails: list[EmailFinding] = []
    phones: list[PhoneFinding] = []
    names: list[str] = []
    for table in tree.css("table"):
        rows = _rows(table)
        if len(rows) < 2:
            continue
        headers = [_text(c) for c in _cells(rows[0])]
        name_col = next((i for i, h in enumerate(headers) if _NAME_HEADER.search(h)), None)
        first_col = next((i for i, h in enumerate(headers) if _FIRST_HEADER.search(h)), None)
        last_col = next((i for i, h in enumerate(headers) if _LAST_HEADER.search(h)), None)
        if name_col is None and (first_col is None or last_col is None):
            continue
        phone_cols = [
            i
            for i, h in enumerate(headers)
            if i not in (name_col, first_col, last_col) and _PHONE_HEADER.search(h)
        ]
        email_cols = [i for i, h in enumerate(headers) if _EMAIL_HEADER.search(h)]
        for row in rows[1:]:
            cells = _cells(row)
            texts = [_text(c) for c in cells]
            if name_col is not None:
                raw = texts[name_col] if name_col < len(texts) else ""
            else:
                assert first_col is not None and last_col is not None
                parts = [texts[i] for i in (first_col, last_col) if i < len(texts)]
                raw = " ".join(parts)
            found = find_names(raw) or find_names(_catalogue_order(raw))
            if not found:
                continue
            owner = found[0][0]
            if owner not in names:
                names.append(owner)
            for i in phone_cols:
                if i >= len(cells):
                    continue
                header_label = phone_label(headers[i])
                numbers = [
                    parse_phone(
                        unquote(a.attributes.get("href", "").split(":", 1)[1]),
                        region,
                        possible=True,
                    )
                    for a in cells[i].css('a[href^="tel:"]')
                ]
                numbers += [p for p, _, _ in find_phones(texts[i], region, marked=True)]
                for phone in numbers:
                    if phone is None:
                        continue
                    label = phone_label(texts[i]) or header_label
                    mine = label not in ("fax", "main", "support")
                    phones.append(
                        PhoneFinding(
                            phone_value(phone),
                            label,
                            owner if mine else None,
                            phone.mobile,
                            "table",
                        )
                    )
            for i in email_cols:
                if i < len(cells):
                    for address, _ in find_emails(texts[i]):
                        emails.append(EmailFinding(address, owner, "table"))
                    for link in cells[i].css('a[href^="mailto:"]'):
                        for address in mailto_addresses(link.attributes.get("href") or ""):
                            emails.append(EmailFinding(address, owner, "table"))
    return emails, phones, names


# -- vCard files --------------------------------------------------------------------------------


def extract_vcard(text: str, region: str = "US") -> PageFindings:
    """Emails and phones of the people in a vCard file (RFC 6350; vCard 3 and 4).

    Lines are unfolded (§3.2); ``FN`` (or ``N``, ``Family;Given``) names the owner; ``TEL`` is
    labelled from its ``TYPE``: ``fax`` → ``fax``, ``main`` (the company's main number, as
    Apple's and Outlook's exports write it) → ``main`` and nobody's, ``cell`` → ``mobile``,
    ``work``/``voice`` → ``direct``.
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
                phone = parse_phone(value.removeprefix("tel:"), region, possible=True)
                if phone is None:
                    continue
                kinds = set(re.findall(r"[a-z]+", params))
                label = (
                    "fax"
                    if "fax" in kinds
                    else "main"
                    if "main" in kinds
                    else "mobile"
                    if "cell" in kinds
                    else "direct"
                    if owner
                    else None
                )
                if label == "main":  # the company's line printed on everyone's card
                    findings.phones.append(
                        PhoneFinding(phone_value(phone), label, None, phone.mobile, "vcard")
                    )
                    continue
                findings.phones.append(
                    PhoneFinding(phone_value(phone), label, owner, phone.mobile, "vcard")
                )
    return findings
