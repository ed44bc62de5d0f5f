"""Mail host recognition, disposable domains and the prober's default identity."""

from __future__ import annotations

import pytest

from leadsonar.config import Settings, _default_helo_name
from leadsonar.domains.mailhosts import is_disposable, mail_provider


@pytest.mark.parametrize(
    ("hosts", "provider"),
    [
        (["aspmx.l.google.com", "alt1.aspmx.l.google.com"], "google"),
        (["ALT2.ASPMX.L.GOOGLE.COM."], "google"),
        (["contoso-com.mail.protection.outlook.com"], "microsoft"),
        (["mx0a-00123401.pphosted.com"], "proofpoint"),
        (["eu-smtp-inbound-1.mimecast.com"], "mimecast"),
        (["d123.iphmx.com"], "cisco"),
        (["in1-smtp.messagingengine.com"], "fastmail"),
        (["mx00.kundenserver.de"], "ionos"),
        (["mail.example.com"], None),
        (["notgoogle.com"], None),  # a suffix match needs a label boundary
        ([], None),
    ],
)
def test_mail_provider_is_read_from_mx_names(hosts: list[str], provider: str | None) -> None:
    assert mail_provider(hosts) == provider


@pytest.mark.parametrize(
    ("domain", "disposable"),
    [("mailinator.com", True), ("eu.mailinator.com", True), ("example.com", False)],
)
def test_disposable_domains_come_from_the_maintained_list(domain: str, disposable: bool) -> None:
    assert is_disposable(domain) is disposable


def test_default_identity_is_never_a_well_known_providers_domain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("socket.getfqdn", lambda: "localhost")
    assert _default_helo_name() == "leadsonar.localhost"
    monkeypatch.setattr("socket.getfqdn", lambda: "probe01.sales-ops.example.net")
    assert _default_helo_name() == "probe01.sales-ops.example.net"
    settings = Settings(smtp_helo_name="probe.example.net")
    assert settings.mail_from == "verify@probe.example.net"
    assert Settings(smtp_helo_name="p.example.net", smtp_mail_from="x@example.net").mail_from == (
        "x@example.net"
    )
