"""Prometheus metrics (prometheus-client), served at ``GET /metrics``.

Every metric lives in :data:`REGISTRY` (this process's registry, with the process and platform
collectors). Labels are bounded: routes are path templates (``/api/v1/enrich/{job_id}``),
outcomes and classes are short fixed words, providers are configured provider names.
docs/operations.md lists them with what to alert on.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "leadsonar_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "leadsonar_http_request_duration_seconds",
    "Seconds from the first byte of a request to the end of its answer, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
REJECTED_REQUESTS = Counter(
    "leadsonar_http_rejected_requests",
    "Requests refused at the edge before any route ran, by reason "
    "(body_too_large, control_character, missing_key, invalid_key, auth_throttled, rate_limited).",
    ["reason"],
    registry=REGISTRY,
)
LOOKUPS = Counter(
    "leadsonar_lookups",
    "Finished lookups by field (email, phone, verify), answering provider ('none' when nothing "
    "was found) and outcome (found, not_found, unknown, error, cached).",
    ["field", "provider", "outcome"],
    registry=REGISTRY,
)
CREDITS_CHARGED = Counter(
    "leadsonar_credits_charged",
    "LeadSonar credits charged to accounts (before refunds).",
    registry=REGISTRY,
)
CREDITS_REFUNDED = Counter(
    "leadsonar_credits_refunded",
    "LeadSonar credits given back to accounts.",
    registry=REGISTRY,
)
JOBS = Gauge(
    "leadsonar_jobs",
    "Bulk enrichment jobs in the database by status (read at scrape time).",
    ["status"],
    registry=REGISTRY,
)
JOB_ITEMS = Gauge(
    "leadsonar_job_items",
    "Bulk enrichment items in the database by status (read at scrape time).",
    ["status"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "leadsonar_queue_depth",
    "Bulk enrichment items waiting to be worked (pending, due now or later).",
    registry=REGISTRY,
)
SMTP_CONNECTIONS = Counter(
    "leadsonar_smtp_connections",
    "SMTP connections the prober opened, by outcome (ok, refused, timeout, error).",
    ["outcome"],
    registry=REGISTRY,
)
SMTP_RCPTS = Counter(
    "leadsonar_smtp_rcpts",
    "RCPT TO probes sent, by reply class (accepted, rejected, greylisted, blocked, full, "
    "unknown, error).",
    ["reply_class"],
    registry=REGISTRY,
)
CRAWLER_PAGES = Counter(
    "leadsonar_crawler_pages",
    "Web pages the crawler fetched, by outcome (ok, http_error, refused, error; reused: a page "
    "another crawl read moments before, handed over without a request).",
    ["outcome"],
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "leadsonar_provider_errors",
    "Provider calls that failed, by provider and error class (timeout, throttled, quota, auth, "
    "unavailable, error).",
    ["provider", "error_class"],
    registry=REGISTRY,
)
DNS_HEALTHY = Gauge(
    "leadsonar_dns_resolver_healthy",
    "1 when the resolver answered the self-check name at the last check, 0 otherwise.",
    registry=REGISTRY,
)


# The labelled children of the request metrics, by (method, route, status): ``labels()`` takes
# a lock and builds the label tuple on every call, once per request; the label set is bounded
# (route templates, methods, status codes), so the children are kept.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency (``route`` is a template, never a raw path)."""
    children = _REQUEST_CHILDREN.get((method, route, status))
    if children is None:
        children = (
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)),
            HTTP_LATENCY.labels(method=method, route=route),
        )
        _REQUEST_CHILDREN[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text of :data:`REGISTRY` and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def record_lookup(field: str, result: object) -> None:
    """Count one finished waterfall (a ``waterfall.engine.WaterfallResult``): the lookup by
    field, answering provider and outcome, and every provider call that failed by its class."""
    finding = getattr(result, "finding", None)
    cached = bool(getattr(result, "cached", False))
    provider = getattr(finding, "provider", None) or "none"
    if cached:
        outcome = "cached"
    else:
        outcome = "found" if finding is not None else "not_found"
    LOOKUPS.labels(field=field, provider=provider, outcome=outcome).inc()
    for attempt in getattr(result, "attempts", ()):
        if attempt.outcome in ("error", "timeout"):
            PROVIDER_ERRORS.labels(
                provider=attempt.provider,
                error_class=_error_class(attempt.error_class or attempt.outcome),
            ).inc()


_ERROR_CLASSES = {
    "throttled": "throttled",
    "out of credits": "quota",
    "bad key": "auth",
    "timeout": "timeout",
    "deadline": "timeout",
    "server error": "unavailable",
    "circuit open": "unavailable",
}


def _error_class(text: str) -> str:
    return _ERROR_CLASSES.get(text, "error")
