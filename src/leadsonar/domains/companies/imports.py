"""Imported companies: ``leadsonar import companies.csv`` (``company,website`` or
``name,domain`` columns), stored in ``company_domains`` with source ``import``; they answer
before any other source."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.companies.names import company_key
from leadsonar.domains.contacts import ImportReport
from leadsonar.domains.models import CompanyDomain
from leadsonar.exceptions import InvalidDomain
from leadsonar.kit.net.hostnames import domain_from_website


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
