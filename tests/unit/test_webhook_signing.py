"""Webhook signatures and retry delays (issue 11 §5)."""

from __future__ import annotations

import hashlib
import hmac
import time

from leadsonar.webhooks.delivery import retry_delay
from leadsonar.webhooks.signing import sign, verify


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = sign("whsec_test", b'{"a":1}', timestamp=1_700_000_000)
    expected = hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert not verify("whsec_test", b'{"a":1}', header)  # far too old: a replay


def test_retry_delays_double_up_to_an_hour() -> None:
    assert [retry_delay(30, n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30, 20) == 3600


def test_a_fresh_signature_verifies_and_a_changed_body_or_secret_does_not() -> None:
    header = sign("whsec_a", b"{}", timestamp=int(time.time()))
    assert verify("whsec_a", b"{}", header)
    assert not verify("whsec_b", b"{}", header)
    assert not verify("whsec_a", b"{ }", header)
    assert not verify("whsec_a", b"{}", "garbage")
