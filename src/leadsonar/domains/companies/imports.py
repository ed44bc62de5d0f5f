"""Imported companies: ``leadsonar import companies.csv`` (``company,website`` or
``name,domain`` columns), stored in ``company_domains`` with source ``import``; they answer
before any other source."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.companies.names import company_key
from leadsonar.domains.contacts import ImportReport
from leadsonar.domains.models import CompanyDomain
from leadsonar.exceptions import InvalidDomain
from leadsonar.kit.net.hostnames import domain_from_website


def read_companies_csv(path: Path) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line number, company name, website)`` from a companies CSV: the name from a
    ``company``, ``companyName`` or ``name`` column, the website from ``website`` or ``domain``
    (headers case-insensitive)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [re.sub(r"[^a-z]", "", h.lower()) for h in next(reader, [])]

        def column(*names: str) -> int:
            return next((header.index(n) for n in names if n in header), -1)

        name_at, site_at = column("company", "companyname", "name"), column("website", "domain")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue

            def cell(index: int, row: list[str] = row) -> str:
                return row[index].strip() if 0 <= index < len(row) else ""

            yield reader.line_num, cell(name_at), cell(site_at)


async def import_companies(
    session: AsyncSession, rows: list[tuple[int, str, str]], report: ImportReport
) -> None:
    """Store imported companies (source ``import``); they answer before any guess."""
    skipped = report.skipped if report.skipped is not None else []
    report.skipped = skipped
    for line, name, website in rows:
        report.rows += 1
        if not company_key(name) or not website:
            skipped.append(f"line {line}: a company name and a website are required")
            continue
        try:
            domain = domain_from_website(website, allow_reserved=True)
        except InvalidDomain as exc:
            skipped.append(f"line {line}: {exc.message}")
            continue
        session.add(
            CompanyDomain(name=name, name_key=company_key(name), domain=domain, source="import")
        )
        report.imported += 1
    await session.flush()
