"""Lookup and provider-error metrics (issue 12 §3), read back through prometheus-client."""

from __future__ import annotations

from leadsonar.kit import metrics
from leadsonar.providers.base import Confidence, Finding
from leadsonar.waterfall.engine import Attempt, WaterfallResult


def _value(name: str, labels: dict[str, str]) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_lookup_counts_its_outcome_and_each_failed_provider_by_class() -> None:
    found = WaterfallResult(
        finding=Finding(value="ada@acme.test", confidence=Confidence.HIGH, provider="leadmagic"),
        attempts=[
            Attempt("hunter", "timeout", 0.5, "timeout"),
            Attempt("prospeo", "error", 0.1, "throttled"),
            Attempt("apollo", "error", 0.1, "out of credits"),
            Attempt("pdl", "error", 0.1, "bad key"),
            Attempt("lusha", "skipped", 0.0, "circuit open"),
            Attempt("leadmagic", "hit", 0.3),
        ],
    )
    names = {
        ("hunter", "timeout"),
        ("prospeo", "throttled"),
        ("apollo", "quota"),
        ("pdl", "auth"),
    }
    before = {
        n: _value(
            "leadsonar_provider_errors_total",
            dict(zip(("provider", "error_class"), n, strict=True)),
        )
        for n in names
    }
    hits = _value(
        "leadsonar_lookups_total", {"field": "email", "provider": "leadmagic", "outcome": "found"}
    )
    metrics.record_lookup("email", found)
    for n in names:
        labels = dict(zip(("provider", "error_class"), n, strict=True))
        assert _value("leadsonar_provider_errors_total", labels) == before[n] + 1, n
    skipped = {"provider": "lusha", "error_class": "unavailable"}
    assert _value("leadsonar_provider_errors_total", skipped) == 0  # skipped is not a failure
    assert (
        _value(
            "leadsonar_lookups_total",
            {"field": "email", "provider": "leadmagic", "outcome": "found"},
        )
        == hits + 1
    )

    cached = WaterfallResult(finding=None, cached=True)
    labels = {"field": "phone", "provider": "none", "outcome": "cached"}
    start = _value("leadsonar_lookups_total", labels)
    metrics.record_lookup("phone", cached)
    assert _value("leadsonar_lookups_total", labels) == start + 1


def test_the_exposition_is_prometheus_text() -> None:
    metrics.observe_request("GET", "/api/v1/credits", 200, 0.02)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    text = body.decode()
    assert (
        'leadsonar_http_requests_total{method="GET",route="/api/v1/credits",status="200"}' in text
    )
    assert "leadsonar_http_request_duration_seconds_bucket" in text
