"""Who runs a domain's mail (recognised from its MX host names), and disposable domains.

Knowing the mail host explains how a domain answers probes: Google Workspace and most filters
(Proofpoint, Mimecast) answer RCPT truthfully; Microsoft 365 throttles a session after an unknown
recipient; filtering gateways often accept everything (catch-all) and bounce later. The suffixes
below are the MX names each service documents for its customers.
"""

from __future__ import annotations

from collections.abc import Iterable

from disposable_email_domains import blocklist as _DISPOSABLE

# (MX host suffix, provider id). Longest suffix wins; ids are stable, lower case.
_MX_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("aspmx.l.google.com", "google"),
    ("googlemail.com", "google"),
    ("google.com", "google"),
    ("mail.protection.outlook.com", "microsoft"),
    ("outlook.com", "microsoft"),
    ("hotmail.com", "microsoft"),
    ("pphosted.com", "proofpoint"),
    ("ppe-hosted.com", "proofpoint"),
    ("mimecast.com", "mimecast"),
    ("mimecast.co.za", "mimecast"),
    ("barracudanetworks.com", "barracuda"),
    ("iphmx.com", "cisco"),
    ("mailcontrol.com", "forcepoint"),
    ("sophos.com", "sophos"),
    ("trendmicro.com", "trendmicro"),
    ("trendmicro.eu", "trendmicro"),
    ("messagelabs.com", "broadcom"),
    ("zoho.com", "zoho"),
    ("zoho.eu", "zoho"),
    ("zohomail.com", "zoho"),
    ("messagingengine.com", "fastmail"),
    ("yahoodns.net", "yahoo"),
    ("protonmail.ch", "proton"),
    ("icloud.com", "apple"),
    ("yandex.net", "yandex"),
    ("yandex.ru", "yandex"),
    ("mail.ovh.net", "ovh"),
    ("ovh.net", "ovh"),
    ("kundenserver.de", "ionos"),
    ("ionos.com", "ionos"),
    ("secureserver.net", "godaddy"),
    ("amazonaws.com", "amazon"),
    ("mailgun.org", "mailgun"),
    ("emailsrvr.com", "rackspace"),
    ("gmx.net", "gmx"),
    ("web.de", "webde"),
)

# Providers whose servers throttle or tarpit a session after an unknown recipient, so the
# catch-all probe gets its own session and a rejection ends the session's usefulness.
THROTTLE_AFTER_UNKNOWN = frozenset({"microsoft"})


def mail_provider(mx_hosts: Iterable[str]) -> str | None:
    """The mail service behind ``mx_hosts`` (host names), or ``None`` if not recognised.

    The first host that matches decides (MX hosts come in preference order).
    """
    for host in mx_hosts:
        name = host.lower().rstrip(".")
        best: tuple[int, str] | None = None
        for suffix, provider in _MX_SUFFIXES:
            if (name == suffix or name.endswith("." + suffix)) and (
                best is None or len(suffix) > best[0]
            ):
                best = (len(suffix), provider)
        if best:
            return best[1]
    return None


def is_disposable(domain: str) -> bool:
    """Whether ``domain`` (or a parent of it) is a known disposable-mail domain (the
    ``disposable-email-domains`` list)."""
    labels = domain.lower().split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE for i in range(len(labels) - 1))
