"""Log redaction and control-character detection of kit/http_edge (issue 12 §1-2)."""

from __future__ import annotations

import logging

import pytest

from leadsonar.kit.http_edge import RedactingFilter, control_character_error, redact_target

KEY = "ls_live_" + "Ab1-_" * 8


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/x?api_key=s3cr3t&page=2", "/x?api_key=[redacted]&page=2"),
        ("/x?page=2&KEY=s3cr3t", "/x?page=2&KEY=[redacted]"),
        ("/x?access_token=a.b.c;token=zz", "/x?access_token=[redacted];token=[redacted]"),
        ("/x?api%5Fkey=s3cr3t", "/x?api%5Fkey=[redacted]"),
        (
            "/x?X-API-Key=s3cr3t&hunter_api_key=q",
            "/x?X-API-Key=[redacted]&hunter_api_key=[redacted]",
        ),
        (
            "/x?client_secret=1&refresh_token=2",
            "/x?client_secret=[redacted]&refresh_token=[redacted]",
        ),
        ("/x?keyword=sales&monkey=1", "/x?keyword=sales&monkey=1"),
        (f"/api/v1/enrich/{KEY}", "/api/v1/enrich/[redacted]"),
        (f"/x?q={KEY}", "/x?q=[redacted]"),
        ("/x?flag", "/x?flag"),
    ],
)
def test_redact_target(target: str, expected: str) -> None:
    assert redact_target(target) == expected


def test_the_filter_redacts_uvicorns_own_access_record_and_any_message() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/api/v1/credits?api_key={KEY}", "1.1", 401),
        None,
    )
    RedactingFilter().filter(record)
    assert KEY not in record.getMessage() and "api_key=[redacted]" in record.getMessage()
    other = logging.LogRecord(
        "leadsonar", logging.INFO, __file__, 1, "header was Bearer %s", ("abc.def",), None
    )
    RedactingFilter().filter(other)
    assert "abc.def" not in other.getMessage()


def _scope(path: str = "/api/v1/x", query: bytes = b"") -> dict[str, object]:
    return {"type": "http", "path": path, "query_string": query}


@pytest.mark.parametrize(
    ("scope", "body", "expected"),
    [
        (_scope(), b'{"firstName": "Al\\u0000ex"}', "firstName must not contain control"),
        (
            _scope(),
            b'{"contacts": [{"a": "ok"}, {"company": "Ac\\u001bme"}]}',
            "contacts[1].company",
        ),
        (_scope(), b'{"a\\u0000b": 1}', "a\x00b must not contain"),
        (_scope(), b'{"email": "x\\ud800@y.com"}', "invalid characters (U+D800"),
        (_scope(), b'{"name": "tab\\there"}', "U+0009"),
        (_scope(), b'"\\u0085"', "The body must not contain control characters (U+0085"),
        (_scope("/api/v1/enrich/a\x00"), b"", "URL path"),
        (_scope(query=b"email=a%00b"), b"", "Query parameter 'email'"),
    ],
)
def test_control_characters_are_named_with_their_place(
    scope: dict[str, object], body: bytes, expected: str
) -> None:
    message = control_character_error(scope, body)
    assert message is not None and expected in message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"firstName": "Jos\\u00e9", "lastName": "\\u00d8deg\\u00e5rd"}',
        b'{"text": "a literal \\\\u0000 is six characters"}',
        b"{not json at all \x00",  # not JSON: the route answers its own 400
        b'{"n": 5, "ok": true, "list": [null]}',
    ],
)
def test_clean_bodies_pass(body: bytes) -> None:
    assert control_character_error(_scope(), body) is None
