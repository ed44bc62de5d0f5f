"""Address syntax (FC-13, FC-14): what the API and imports accept as an email address."""

from __future__ import annotations

import pytest

from leadsonar.exceptions import BadRequest
from leadsonar.kit.emails import local_part_is_valid, normalise_email


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("john.doe @example.com", id="FC-13-space"),
        pytest.param("a@g", id="FC-13-dotless-domain"),
        pytest.param("lena.@example.com", id="FC-13-trailing-dot"),
        pytest.param(".lena@example.com", id="FC-13-leading-dot"),
        pytest.param("le..na@example.com", id="FC-13-double-dot"),
        pytest.param("no-at-sign.example.com", id="no-at"),
        pytest.param("@example.com", id="empty-local"),
        pytest.param("x@localhost", id="special-use"),
        pytest.param("x@127.0.0.1", id="ip-literal"),
        pytest.param("x@xn--zz.com", id="FC-14-malformed-a-label"),
    ],
)
def test_invalid_addresses_are_refused_with_a_sentence(value: str) -> None:
    with pytest.raises(BadRequest) as caught:
        normalise_email(value)
    assert caught.value.status_code == 400
    assert caught.value.message.endswith((".", ")"))


@pytest.mark.parametrize(
    ("value", "right"),
    [
        ("Hanna.Berg@Example.com", "hanna.berg@example.com"),
        pytest.param("info@bäckerei-müller.de", "info@xn--bckerei-mller-bfb28a.de", id="FC-14"),
        (" a_b-c@mail.example.co.uk ", "a_b-c@mail.example.co.uk"),
    ],
)
def test_valid_addresses_are_normalised(value: str, right: str) -> None:
    assert normalise_email(value) == right


def test_reserved_test_domains_only_when_allowed() -> None:
    with pytest.raises(BadRequest):
        normalise_email("a@acme.test")
    assert normalise_email("a@acme.test", allow_reserved=True) == "a@acme.test"


@pytest.mark.parametrize(
    ("local_part", "valid"),
    [
        ("lena", True),
        ("lena.", False),
        (".lena", False),
        ("le..na", False),
        ("jean-luc.perrin", True),
    ],
)
def test_local_part_syntax(local_part: str, valid: bool) -> None:
    assert local_part_is_valid(local_part) is valid
