"""results.csv columns (issue 11 §2): input columns first, then the results, no clashes."""

from __future__ import annotations

from leadsonar.enrichment.export import RESULT_COLUMNS, header_of
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
