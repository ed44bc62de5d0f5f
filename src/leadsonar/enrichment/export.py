"""``GET /enrich/{jobId}/results.csv``: a job's rows as CSV, streamed a page at a time.

Columns: the input's columns as uploaded (``firstName, lastName, website, companyName`` for a
job sent as JSON), then :data:`RESULT_COLUMNS`. A result column whose name the input already uses
(an uploaded file with its own ``email`` column) is written ``leadsonar_<name>``. Rows are in
input order, every row included: a row not worked yet or cancelled has empty results and a
``reason`` saying so. UTF-8, ``\\r\\n`` line ends (RFC 4180), with a header; memory stays flat
whatever the job's size because rows are read :data:`PAGE` at a time, each page in its own short
read transaction.

**Formula injection** (OWASP "CSV Injection"). Names, companies and reasons come from uploaded
files and crawled pages, and a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return) as a formula (``=HYPERLINK(...)``, ``-2+3+cmd|' /C calc'!A0``).
Every cell, input or result, goes through :func:`spreadsheet_safe`: such a cell gets a leading
``'`` so it is shown as text, EXCEPT a cell that starts with ``+`` or ``-`` and holds only digits,
spaces and ``( ) . - /`` (a phone number such as ``+1 415-555-0192``, a negative number), which
stays as it is so phone numbers remain usable.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

from leadsonar.enrichment import repository
from leadsonar.enrichment.files import fold_header
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob, ItemState
from leadsonar.kit.db import Database
from leadsonar.kit.net.hostnames import display_domain
from leadsonar.kit.phones import display_from_e164

RESULT_COLUMNS = (
    "email",
    "confidence",
    "phone",
    "type",
    "companyPhone",
    "verification",
    "reason",
)
PAGE = 1000
NOT_YET = "Not looked up yet: the job is still running."

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"[+-][0-9 ().\-/]*[0-9][0-9 ().\-/]*")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet will show it as text, never run it as a formula.

    A cell starting with ``=``, ``@``, a tab or a carriage return, or with ``+``/``-`` not
    followed by only a phone number's or a number's characters, gets a leading ``'``
    (OWASP CSV Injection); anything else is returned unchanged (``+1 415-555-0192`` stays).
    """
    if not cell.startswith(_FORMULA_START) or _NUMBER_LIKE.fullmatch(cell):
        return cell
    return "'" + cell


def header_of(job: EnrichmentJob) -> tuple[list[str], list[str]]:
    """``(input columns, result columns)`` as written in the header line."""
    inputs = list(job.input_columns or ["firstName", "lastName", "website", "companyName"])
    taken = {fold_header(name) for name in inputs}
    results = [f"leadsonar_{c}" if fold_header(c) in taken else c for c in RESULT_COLUMNS]
    return inputs, results


def _input_cells(item: EnrichmentItem, width: int) -> list[str]:
    if item.input_cells is not None:
        cells = [str(c) for c in item.input_cells]
    else:
        website = display_domain(item.website) if item.website else ""
        cells = [item.first_name, item.last_name, website, item.company_name or ""]
    return (cells + [""] * width)[:width]


def _result_cells(item: EnrichmentItem) -> list[str]:
    if item.status in (ItemState.PENDING, ItemState.RUNNING, ItemState.WAITING):
        return ["", "", "", "", "", "", NOT_YET]
    return [
        item.email or "",
        item.confidence or "",
        display_from_e164(item.phone) if item.phone else "",
        item.phone_type or "",
        display_from_e164(item.company_phone) if item.company_phone else "",
        item.email_verification or "",
        item.reason or "",
    ]


async def stream_results(db: Database, job: EnrichmentJob) -> AsyncIterator[str]:
    """The CSV text of ``job``'s rows, header first, one page of rows per chunk."""
    inputs, results = header_of(job)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(name) for name in inputs + results])
    yield buffer.getvalue()
    after = -1
    while True:
        items = await repository.item_page(db, job.id, after, PAGE)
        if not items:
            return
        buffer.seek(0)
        buffer.truncate()
        for item in items:
            cells = _input_cells(item, len(inputs)) + _result_cells(item)
            writer.writerow([spreadsheet_safe(cell) for cell in cells])
        yield buffer.getvalue()
        after = items[-1].position
