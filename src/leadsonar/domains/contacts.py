"""The user's own contacts: CSV import (``leadsonar import --account NAME``) and lookups by name
and domain. Contacts belong to the account that imported them and are only ever read for it; the
patterns their addresses teach are shared knowledge about the domain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from anyascii import anyascii
from sqlalchemy.ext.asyncio import AsyncSession

# a module attribute, not a name: the repository imports this module (name_key)
from leadsonar.domains import repository
from leadsonar.domains.models import KnownContact
from leadsonar.enrichment.files import LeadTable, read_path
from leadsonar.exceptions import BadRequest, InvalidDomain
from leadsonar.kit.db import upsert
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.net.hostnames import domain_from_website
from leadsonar.kit.phones import parse_phone

COLUMNS = ("firstname", "lastname", "company", "website", "email", "phone")
BATCH = 500


def name_key(first: str, last: str) -> str:
    """A match key for a person's name: transliterated, lower case, letters and digits only
    (``Élodie``/``Marchand`` → ``elodie|marchand``)."""

    def fold(value: str) -> str:
        return re.sub(r"[^a-z0-9]", "", anyascii(value).lower())

    return f"{fold(first)}|{fold(last)}"


def contact_key(name: str, domain: str | None, company: str | None, email: str | None) -> str:
    """What identifies an imported contact within its account (``name`` is :func:`name_key`):
    its address when it has one (namesakes with different addresses stay apart), else its name
    at its domain or company. Importing a row with the same key again updates the contact."""
    if email:
        return f"email:{email.lower()}"
    return f"name:{name}@{domain or (company or '').strip().lower()}"


def column_key(header: str) -> str:
    """A CSV header folded for matching: ``First_Name``, ``first name`` → ``firstname``."""
    return re.sub(r"[^a-z]", "", header.strip().lower())


@dataclass
class ImportReport:
    """What an import did: rows read, contacts stored (new or updated), emails that taught
    their domain's pattern for the first time, rows skipped with reasons (line: text)."""

    rows: int = 0
    imported: int = 0
    patterns_learned: int = 0
    skipped: list[str] | None = None


def _companies_columns(table: LeadTable) -> LeadTable:
    """A companies file may call the company ``Name``: read as ``company`` there."""
    if "company" not in table.columns and "fullname" in table.columns:
        table.columns["company"] = table.columns.pop("fullname")
    return table


def csv_kind(path: Path) -> str:
    """What an import file holds, from its header: ``contacts`` (``firstName``, ``lastName``
    columns) or ``companies`` (``company``/``name`` and ``website``/``domain`` columns). Read
    with the one lead-list reader (:mod:`leadsonar.enrichment.files`: encodings, delimiters,
    header aliases).

    Raises:
        BadRequest: the header fits neither (one sentence naming what is missing).
    """
    table = read_path(path)
    try:
        if {"firstname", "lastname"} <= table.columns.keys():
            return "contacts"
        if {"company", "website"} <= _companies_columns(table).columns.keys():
            return "companies"
    finally:
        table.close()
    raise BadRequest(
        f"{path.name} needs firstName and lastName columns (contacts) or company and website "
        f"columns (companies); the columns found are "
        f"{', '.join(repr(h) for h in table.header if h) or 'none'}."
    )


def read_contacts_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` with canonical column names (``firstname``, ``lastname``,
    ``company``, ``website``, ``email``, ``phone``); headers are matched by their usual names
    (``First Name``, ``first_name``, ``Company Name``, ``Email Address``, …).

    Raises:
        BadRequest: the file has no ``firstName``/``lastName`` columns.
    """
    table = read_path(path)
    table.require("contacts")
    for line, _cells, record in table.records():
        yield line, {k: record.get(k, "") for k in COLUMNS}


def read_companies_csv(path: Path) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line number, company name, website)`` from a companies CSV: the name from a
    ``company``, ``companyName`` or ``name`` column, the website from ``website`` or ``domain``.

    Raises:
        BadRequest: the file lacks a company or a website column.
    """
    table = _companies_columns(read_path(path))
    table.require("companies")
    for line, _cells, record in table.records():
        yield line, record.get("company", ""), record.get("website", "")


async def import_rows(
    session: AsyncSession,
    rows: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    account_id: int,
) -> None:
    """Store one batch of CSV rows as ``account_id``'s known contacts and learn each email's
    pattern (each address counts once, however often it is imported).

    A row whose :func:`contact_key` the account already has updates that contact (``INSERT …
    ON CONFLICT DO UPDATE``) instead of adding a duplicate. Only flushes; the caller commits.
    """
    skipped = report.skipped if report.skipped is not None else []
    report.skipped = skipped
    for line, row in rows:
        report.rows += 1
        first, last = row["firstname"], row["lastname"]
        if not first or not last:
            skipped.append(f"line {line}: firstName and lastName are required")
            continue
        email = None
        if row["email"]:
            try:
                email = normalise_email(row["email"], allow_reserved=True)
            except BadRequest as exc:
                skipped.append(f"line {line}: {exc.message}")
                continue
        domain = None
        try:
            if row["website"]:
                domain = domain_from_website(row["website"], allow_reserved=True)
            elif email:
                domain = domain_from_website(email.rpartition("@")[2], allow_reserved=True)
        except InvalidDomain as exc:
            skipped.append(f"line {line}: {exc.message}")
            continue
        phone = parse_phone(row["phone"], "US") if row["phone"] else None
        key = name_key(first, last)
        company = row["company"] or None
        await upsert(
            session,
            KnownContact,
            {
                "account_id": account_id,
                "contact_key": contact_key(key, domain, company, email),
                "first_name": first,
                "last_name": last,
                "name_key": key,
                "domain": domain,
                "company": company,
                "email": email,
                "phone": phone.e164 if phone else None,
            },
            keys=["account_id", "contact_key"],
        )
        report.imported += 1
        if email and await repository.learn_address(session, email, first, last):
            report.patterns_learned += 1
    await session.flush()
