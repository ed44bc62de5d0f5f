"""``webhookUrl`` checks at submission (issue 11 §5, DESIGN.md §5): every notation of a private
address is refused with a 400 sentence, never a crash; the name's addresses are checked again at
delivery (tests/integration/test_webhooks.py, DNS rebinding)."""

from __future__ import annotations

import pytest

from leadsonar.config import Settings
from leadsonar.exceptions import BadRequest
from leadsonar.webhooks.service import check_webhook_url

STRICT = Settings(allowed_private_networks="")


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/hook",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/hook",  # ... as hex
        "http://0177.0.0.1/hook",  # ... octal
        "http://127.1/hook",  # ... short form
        "http://0x7f.1/hook",
        "http://0/hook",
        "http://0.0.0.0/hook",
        "http://[::]/hook",
        "http://[::1]:8080/hook",
        "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",  # 169.254.169.254, mapped, hex
        "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "http://[2002:c0a8:1::]/hook",  # 6to4 of 192.168.0.1
        "http://[fe80::1%25eth0]/hook",  # link-local with a zone
        "http://[fd00::1]/hook",  # unique local
        "http://100.64.0.1/hook",  # shared address space (CGNAT)
        "http://169.254.169.254./latest/meta-data",  # trailing dot
        "http://LOCALHOST./hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://user@hooks.acmecorp.com/hook",
        "http://hooks.acmecorp.com%2f@127.0.0.1/hook",
        "https://xn--/hook",  # malformed A-label: was an IDNAError (500)
        "https://xn--.com/hook",
        "http://１２７.０.０.１/hook",  # full-width digits
        "file:///etc/passwd",
        "gopher://hooks.acmecorp.com/",
        "//hooks.acmecorp.com/hook",
        "http://" + "a" * 2100 + ".com/",
        "http://hooks.acmecorp.com:25/hook",  # SMTP: a POST body as mail commands
        "http://8.8.8.8:22/hook",  # SSH
        "https://hooks.acmecorp.com:389/hook",  # LDAP
    ],
)
def test_every_notation_of_a_private_or_malformed_target_is_a_400(url: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_webhook_url(url, STRICT)
    assert caught.value.message.startswith("webhookUrl")
    assert len(caught.value.message) < 400


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.acmecorp.com/leadsonar?token=abc",
        "http://8.8.8.8:8443/hook",
        "http://[2606:4700:4700::1111]/hook",
        "https://bücher.example.de/hook",
        "http://hooks.acmecorp.com:80/hook",
        "https://hooks.acmecorp.com:443/hook",
        "https://hooks.acmecorp.com:1024/hook",
    ],
)
def test_public_receivers_are_accepted(url: str) -> None:
    assert check_webhook_url(f"  {url} ", STRICT) == url
