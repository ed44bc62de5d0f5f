"""Structured data: JSON-LD (schema.org), vCard (RFC 6350), microformats h-card."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from leadsonar.domains.extract.emails import clean_address
from leadsonar.domains.extract.models import EmailFinding, PageFindings, PhoneFinding
from leadsonar.domains.extract.phones import phone_label, phone_value
from leadsonar.kit.phones import parse_phone


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
