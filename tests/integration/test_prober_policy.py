"""Issue 3: hard mail servers handled as real ones behave, and fewer probes — over HTTP against
real loopback DNS and SMTP servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.enrichment.models import EnrichmentItem
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

Live = tuple[LiveServer, httpx.AsyncClient]


@pytest.fixture
def start(dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path) -> Callable[..., Any]:
    """``async with start(**settings) as (server, client)``: the app on a loopback world."""

    def starter(**overrides: Any) -> Any:
        class _Started:
            async def __aenter__(self) -> Live:
                values: dict[str, Any] = {
                    "database_url": f"sqlite+aiosqlite:///{tmp_path / 'policy.db'}",
                    "rate_limit": "1000/second",
                    "smtp_greylist_delay": 0.4,
                    "job_poll_interval": 0.1,
                    # The prober alone: no website crawl shifting the lookups' timing.
                    "providers": "email=known,smtp;phone=known",
                }
                settings = make_net_settings(dns_zone, smtp_world, **(values | overrides))
                self.server = LiveServer(settings)
                await self.server.__aenter__()
                key = await self.server.create_account("policy", credits=500)
                self.client = httpx.AsyncClient(
                    base_url=self.server.url,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=60,
                )
                return self.server, self.client

            async def __aexit__(self, *exc: object) -> None:
                await self.client.aclose()
                await self.server.__aexit__(None, None, None)

        return _Started()

    return starter


@pytest.fixture
async def live(start: Callable[..., Any]) -> AsyncIterator[Live]:
    async with start() as started:
        yield started


def _domain(dns: LoopbackDns, domain: str, ip: str, mx_name: str | None = None) -> None:
    host = mx_name or f"mx.{domain}"
    dns.add_mx(domain, [(10, host)])
    dns.add_a(host, ip)


async def _find(client: httpx.AsyncClient, first: str, last: str, domain: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/find-email", json={"firstName": first, "lastName": last, "website": domain}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _verify(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post("/api/v1/verify-email", json={"email": email})
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- greylisting (FC-22) -------------------------------------------------------------------


async def test_fc22_greylisted_single_lookup_is_retried_within_the_deadline(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "grey.test", "127.0.0.2")
    server = await smtp_world.serve(
        "127.0.0.2", mailboxes={"alex.johnson@grey.test"}, greylist=True, greylist_delay=0.2
    )
    _, client = live
    body = await _find(client, "Alex", "Johnson", "grey.test")
    assert body["email"] == "alex.johnson@grey.test"
    assert body["confidence"] == "high"
    # The same triple was asked twice: once greylisted, once after the delay.
    assert server.rcpts.count("alex.johnson@grey.test") == 2


async def test_fc22_temporary_errors_for_every_address_are_never_invalid(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "tempfail.test", "127.0.0.3")
    await smtp_world.serve("127.0.0.3", rcpt_reply="451 4.4.4 Temporary server error")
    _, client = live
    body = await _find(client, "Alex", "Johnson", "tempfail.test")
    assert body["email"] == "alex.johnson@tempfail.test"  # a guess, not "does not exist"
    assert body["confidence"] == "low"
    assert body["verification"] == "guessed"
    verdict = await _verify(client, "alex.johnson@tempfail.test")
    assert verdict["status"] == "unknown"


async def test_fc22_greylisted_job_item_is_scheduled_not_waited_for(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "greyjob.test", "127.0.0.4")
    await smtp_world.serve(
        "127.0.0.4", mailboxes={"sarah.chen@greyjob.test"}, greylist=True, greylist_delay=0.2
    )
    server, client = live
    accepted = await client.post(
        "/api/v1/enrich",
        json={"contacts": [{"firstName": "Sarah", "lastName": "Chen", "website": "greyjob.test"}]},
    )
    job_id = accepted.json()["jobId"]
    for _ in range(200):
        done = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if done["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    assert done["results"][0]["email"] == "sarah.chen@greyjob.test"
    assert done["results"][0]["confidence"] == "high"
    async with server.services.db.session() as session:
        item = await session.scalar(select(EnrichmentItem).where(EnrichmentItem.job_id == job_id))
    assert item is not None
    assert item.attempts == 1  # deferred once (not_before), then answered
    assert item.not_before is not None


# -- policy blocks (FC-21) -----------------------------------------------------------------


async def test_fc21_blocked_prober_is_unknown_and_the_domain_is_left_alone(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "blocks.test", "127.0.0.5")
    server = await smtp_world.serve("127.0.0.5", block_rcpt=True)
    _, client = live
    first = await _find(client, "Alex", "Johnson", "blocks.test")
    assert first["email"] == "alex.johnson@blocks.test"
    assert first["confidence"] == "low" and first["verification"] == "guessed"
    assert "refused the prober" in first["reason"]
    connections = server.connections
    second = await _find(client, "Mary", "Smith", "blocks.test")
    assert second["confidence"] == "low"
    assert server.connections == connections  # marked: no more knocking
    verdict = await _verify(client, "mary.smith@blocks.test")
    assert verdict["status"] == "unknown" and verdict["status"] != "invalid"


async def test_fc21_blacklisted_greeting_is_unknown_never_invalid(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "banner-block.test", "127.0.0.6")
    await smtp_world.serve(
        "127.0.0.6", banner=["554 5.7.1 Service unavailable; client host [127.0.0.1] blacklisted"]
    )
    _, client = live
    verdict = await _verify(client, "alex.johnson@banner-block.test")
    assert verdict["status"] == "unknown"


# -- mailbox states (FC-23) ----------------------------------------------------------------


async def test_fc23_full_mailbox_is_still_the_persons_address(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "full.test", "127.0.0.7")
    await smtp_world.serve("127.0.0.7", full={"alex.johnson@full.test"})
    _, client = live
    body = await _find(client, "Alex", "Johnson", "full.test")
    assert body["email"] == "alex.johnson@full.test"
    assert body["confidence"] == "high"
    verdict = await _verify(client, "alex.johnson@full.test")
    assert verdict["status"] == "valid"
    assert "full" in verdict["reason"]


async def test_disabled_mailbox_is_its_own_verdict(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "disabled.test", "127.0.0.8")
    await smtp_world.serve(
        "127.0.0.8", mailboxes={"ok@disabled.test"}, disabled={"alex.johnson@disabled.test"}
    )
    _, client = live
    verdict = await _verify(client, "alex.johnson@disabled.test")
    assert verdict["status"] == "invalid"
    assert "disabled" in verdict["reason"]


# -- connections: caps, 421, throttling after unknown ---------------------------------------


async def test_connections_per_mail_server_are_capped_across_requests(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "busy.test", "127.0.0.9")
    people = [(f"Person{i}", f"Tester{i}") for i in range(6)]
    server = await smtp_world.serve(
        "127.0.0.9",
        mailboxes={f"person{i}.tester{i}@busy.test" for i in range(6)},
        rcpt_delay=0.15,
    )
    _, client = live
    answers = await asyncio.gather(*(_find(client, f, last, "busy.test") for f, last in people))
    assert [a["email"] for a in answers] == [
        f"{f.lower()}.{last.lower()}@busy.test" for f, last in people
    ]
    assert server.peak_connections <= 2  # LEADSONAR_SMTP_MAX_CONNECTIONS_PER_HOST default
    assert server.connections <= 2  # and the sessions were reused


async def test_421_too_many_connections_backs_off(
    start: Callable[..., Any], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "421.test", "127.0.0.10")
    server = await smtp_world.serve(
        "127.0.0.10",
        mailboxes={"a.one@421.test", "b.two@421.test"},
        max_sessions=1,
        rcpt_delay=0.3,
    )
    async with start(
        smtp_max_connections_per_host=4, smtp_greylist_delay=30, lookup_deadline=20
    ) as (_, client):
        first, second = await asyncio.gather(
            _find(client, "A", "One", "421.test"), _find(client, "B", "Two", "421.test")
        )
        refused = server.connections
        third = await _find(client, "C", "Three", "421.test")
    answers = sorted([first, second], key=lambda a: a["confidence"])
    assert answers[0]["confidence"] == "high"  # the session that got in
    assert answers[1]["confidence"] == "low"  # 421: not verified, not invalid
    assert refused == 2
    # Backing off: the third lookup reused the open session instead of knocking again.
    assert server.connections == refused
    assert third["email"] is None  # c.three does not exist; the reused session said so


async def test_server_throttling_after_an_unknown_recipient_gets_a_new_session(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """Microsoft 365 answers 451 4.7.500 to every RCPT after an unknown one in a session."""
    _domain(dns_zone, "ms.test", "127.0.0.11")
    server = await smtp_world.serve(
        "127.0.0.11", mailboxes={"ajohnson@ms.test"}, busy_after_unknown=True
    )
    _, client = live
    body = await _find(client, "Alex", "Johnson", "ms.test")
    assert body["email"] == "ajohnson@ms.test"
    assert body["confidence"] == "high"
    assert server.connections >= 2


async def test_microsoft_mx_never_reuses_a_session_after_a_rejection(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "m365.test", "127.0.0.12", "m365-test.mail.protection.outlook.com")
    server = await smtp_world.serve(
        "127.0.0.12", mailboxes={"ajohnson@m365.test"}, busy_after_unknown=True
    )
    _, client = live
    verdict = await _verify(client, "ajohnson@m365.test")
    assert verdict["mxProvider"] == "microsoft"
    body = await _find(client, "Alex", "Johnson", "m365.test")
    assert body["confidence"] == "high"
    assert not any("Server busy" in r for r in server.rcpts)


# -- catch-all ----------------------------------------------------------------------------


async def test_catch_all_is_learned_once_and_not_probed_again(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "all.test", "127.0.0.13")
    server = await smtp_world.serve("127.0.0.13", catch_all=True)
    _, client = live
    first = await _find(client, "Alex", "Johnson", "all.test")
    assert first["confidence"] == "low" and first["verification"] == "accept_all"
    rcpts = server.rcpt_count
    second = await _find(client, "Mary", "Smith", "all.test")
    assert second["email"] == "mary.smith@all.test"
    assert second["verification"] == "accept_all"
    assert server.rcpt_count == rcpts  # known catch-all: nothing to learn by asking
    verdict = await _verify(client, "whoever@all.test")
    assert verdict["status"] == "accept_all" and verdict["catchAll"] is True


async def test_catch_all_guess_backed_by_two_known_addresses_is_medium(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "pattern.test", "127.0.0.14")
    await smtp_world.serve("127.0.0.14", catch_all=True)
    server, client = live
    rows = [
        {
            "firstname": f,
            "lastname": last,
            "company": "",
            "website": "pattern.test",
            "email": f"{f[0].lower()}{last.lower()}@pattern.test",
            "phone": "",
        }
        for f, last in (("John", "Doe"), ("Mary", "Major"))
    ]
    owner = await server.account_id("policy")
    async with server.services.db.session() as session:
        await import_rows(session, list(enumerate(rows, start=2)), ImportReport(), owner)
    body = await _find(client, "Alex", "Johnson", "pattern.test")
    assert body["email"] == "ajohnson@pattern.test"  # flast, learned from the imports
    assert body["confidence"] == "medium"
    assert body["verification"] == "accept_all"


# -- fewer probes ----------------------------------------------------------------------------


async def test_people_of_one_domain_share_a_session_and_one_catch_all_probe(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "share.test", "127.0.0.15")
    names = [("Alex", "Johnson"), ("Mary", "Smith"), ("Wei", "Chen"), ("Omar", "Haddad")]
    server = await smtp_world.serve(
        "127.0.0.15", mailboxes={f"{f.lower()}.{last.lower()}@share.test" for f, last in names}
    )
    _, client = live
    answers = [await _find(client, f, last, "share.test") for f, last in names]
    assert all(a["confidence"] == "high" for a in answers)
    assert server.connections == 1
    # One RCPT each, one for each found address's numbered sibling (issue 8 §3: is there a
    # second alex.johnson?), one random probe in all.
    assert server.rcpt_count == 2 * len(names) + 1
    assert [a["smtpRcpts"] for a in answers] == [3, 2, 2, 2]


async def test_job_reports_its_smtp_work_and_namesakes_are_never_high(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "team.test", "127.0.0.16")
    await smtp_world.serve(
        "127.0.0.16",
        mailboxes={"john.smith@team.test", "jsmith@team.test", "ana.lima@team.test"},
    )
    _, client = live
    contacts = [
        {"firstName": "John", "lastName": "Smith", "website": "team.test"},
        {"firstName": "Ana", "lastName": "Lima", "website": "team.test"},
        {"firstName": "John", "lastName": "Smith", "website": "team.test"},
    ]
    job_id = (await client.post("/api/v1/enrich", json={"contacts": contacts})).json()["jobId"]
    for _ in range(200):
        done = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if done["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    results = done["results"]
    assert results[1]["email"] == "ana.lima@team.test" and results[1]["confidence"] == "high"
    assert results[0]["confidence"] != "high" and results[2]["confidence"] != "high"
    assert done["smtpConnections"] >= 1
    assert done["smtpRcpts"] >= 3


async def test_imported_namesakes_keep_an_smtp_find_below_high(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "twins.test", "127.0.0.17")
    await smtp_world.serve(
        "127.0.0.17", mailboxes={"john.smith@twins.test", "john.smith2@twins.test"}
    )
    server, client = live
    rows = [
        {
            "firstname": "John",
            "lastname": "Smith",
            "company": "",
            "website": "twins.test",
            "email": email,
            "phone": "",
        }
        for email in ("john.smith@twins.test", "john.smith2@twins.test")
    ]
    owner = await server.account_id("policy")
    async with server.services.db.session() as session:
        await import_rows(session, list(enumerate(rows, start=2)), ImportReport(), owner)
    body = await _find(client, "John", "Smith", "twins.test")
    assert body["confidence"] != "high"


# -- verify-email, mail hosts, flags, IDN -----------------------------------------------------


async def test_verify_email_answers_the_documented_shape(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "verify.test", "127.0.0.18", "alt1.aspmx.l.google.com")
    await smtp_world.serve("127.0.0.18", mailboxes={"alex.johnson@verify.test"})
    _, client = live
    valid = await _verify(client, "Alex.Johnson@verify.test")
    assert set(valid) >= {
        "email",
        "status",
        "reason",
        "domain",
        "mx",
        "mxProvider",
        "catchAll",
        "disposable",
        "role",
        "credits_used",
    }
    assert valid["email"] == "alex.johnson@verify.test"
    assert valid["status"] == "valid"
    assert valid["mx"] == ["alt1.aspmx.l.google.com"]
    assert valid["mxProvider"] == "google"
    assert valid["catchAll"] is False
    assert valid["credits_used"] == 1
    invalid = await _verify(client, "nobody@verify.test")
    assert invalid["status"] == "invalid"
    role = await _verify(client, "info@verify.test")
    assert role["role"] is True
    credits = (await client.get("/api/v1/credits")).json()
    assert credits["totalSpent"] == 3


async def test_verify_email_flags_disposable_and_dead_domains(
    live: Live, dns_zone: LoopbackDns
) -> None:
    dns_zone.add_null_mx("mailinator.com")
    _, client = live
    body = await _verify(client, "someone@mailinator.com")
    assert body["disposable"] is True
    assert body["status"] == "invalid"
    gone = await _verify(client, "someone@no-such-domain.test")
    assert gone["status"] == "invalid" and "does not exist" in gone["reason"]


@pytest.mark.parametrize(
    "email",
    [
        "john.doe @example.com",
        "a@g",
        "lena.@example.com",
        ".lena@example.com",
        "le..na@example.com",
        "x@xn--zz.com",
    ],
)
async def test_verify_email_bad_address_is_400_and_free(live: Live, email: str) -> None:
    _, client = live
    response = await client.post("/api/v1/verify-email", json={"email": email})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert (await client.get("/api/v1/credits")).json()["totalSpent"] == 0


async def test_fc14_unicode_domain_is_probed_in_its_a_label(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "xn--bckerei-mller-bfb28a.de", "127.0.0.19")
    server = await smtp_world.serve(
        "127.0.0.19", mailboxes={"joerg.grossmann@xn--bckerei-mller-bfb28a.de"}
    )
    _, client = live
    body = await _find(client, "Jörg", "Großmann", "bäckerei-müller.de")
    assert body["email"] == "joerg.grossmann@xn--bckerei-mller-bfb28a.de"
    assert body["domain"] == "bäckerei-müller.de"
    assert body["confidence"] == "high"
    assert all(address.isascii() for address in server.rcpts)


async def test_a_tarpit_never_holds_a_lookup_past_its_deadline(
    start: Callable[..., Any], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """A greeting that never comes within the request's deadline: the lookup is answered (not
    hung), and /providers records the prober's timeout."""
    _domain(dns_zone, "tarpit.test", "127.0.0.2")
    await smtp_world.serve("127.0.0.2", mailboxes={"alex.johnson@tarpit.test"}, banner_delay=30)
    async with start(
        smtp_banner_timeout=60,
        smtp_timeout=60,
        lookup_deadline=1.0,
        provider_timeout=1.0,
    ) as (_, client):
        body = await _find(client, "Alex", "Johnson", "tarpit.test")
        providers = (await client.get("/api/v1/providers")).json()["providers"]
    assert body["email"] is None and body["credits_used"] == 1
    smtp = next(p for p in providers if p["name"] == "smtp")
    assert smtp["stats"]["timeouts"] == 1


async def test_verify_email_asks_hunter_only_when_the_prober_cannot_say(
    start: Callable[..., Any], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """Issue 5: Hunter's Email Verifier feeds verify-email — as a second opinion when the
    mail server blocks the prober, never instead of a server that answers."""
    from leadsonar.testing.providerapi import ProviderApi, Reply

    _domain(dns_zone, "blockedv.test", "127.0.0.3")
    _domain(dns_zone, "open.test", "127.0.0.4")
    await smtp_world.serve("127.0.0.3", block_rcpt=True)
    await smtp_world.serve("127.0.0.4", mailboxes={"ok@open.test"})
    async with ProviderApi() as api:
        api.on(
            "GET",
            "/email-verifier",
            Reply(
                {
                    "data": {
                        "status": "valid",
                        "result": "deliverable",
                        "score": 97,
                        "email": "alex.johnson@blockedv.test",
                        "accept_all": False,
                    }
                }
            ),
        )
        async with start(hunter_api_key="hunter-secret-key", hunter_base_url=api.url) as (
            _,
            client,
        ):
            blocked = await _verify(client, "alex.johnson@blockedv.test")
            answered = await _verify(client, "nobody@open.test")
    assert (blocked["status"], blocked["source"]) == ("valid", "hunter")
    assert (answered["status"], answered["source"]) == ("invalid", "smtp")
    assert api.count("GET", "/email-verifier") == 1
    assert "hunter-secret-key" not in str(blocked) + str(answered)


# -- regressions found in review ---------------------------------------------------------------

REJECT = "550 5.1.1 Recipient address rejected: User unknown"


async def test_a_catch_all_backup_mx_is_not_trusted_for_the_primarys_rejections(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("backup.test", [(10, "mx1.backup.test"), (20, "mx2.backup.test")])
    dns_zone.add_a("mx1.backup.test", "127.0.0.2")
    dns_zone.add_a("mx2.backup.test", "127.0.0.3")
    await smtp_world.serve(
        "127.0.0.2",
        rcpt_replies={
            "alex.johnson@backup.test": REJECT,
            "alex@backup.test": REJECT,
            "ajohnson@backup.test": REJECT,
            "alexjohnson@backup.test": "421 4.7.0 mx1 Service not available, closing channel",
        },
    )
    await smtp_world.serve("127.0.0.3", catch_all=True)
    _, client = live
    body = await _find(client, "Alex", "Johnson", "backup.test")
    assert body["confidence"] != "high"
    assert body["verification"] == "accept_all"


@pytest.mark.parametrize(
    "reply",
    [
        "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n"
        "450 4.2.1 prevents additional messages from being delivered. Please resend later.",
        "451 4.3.0 Mail delivery temporarily suspended, try again later",
    ],
)
async def test_temporary_mailbox_states_are_never_invalid(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld, reply: str
) -> None:
    _domain(dns_zone, "ratelimited.test", "127.0.0.4")
    await smtp_world.serve("127.0.0.4", rcpt_reply=reply.split("\r\n"))
    _, client = live
    verdict = await _verify(client, "alex.johnson@ratelimited.test")
    assert verdict["status"] == "unknown"
    found = await _find(client, "Alex", "Johnson", "ratelimited.test")
    assert found["email"] == "alex.johnson@ratelimited.test" and found["confidence"] == "low"


async def test_a_refused_sender_is_a_block_not_an_unknown_mailbox(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """Postfix's reject_unknown_sender_domain answers at RCPT with x.1.8: the prober's sender
    was refused, which says nothing about the mailbox."""
    _domain(dns_zone, "senderpolicy.test", "127.0.0.5")
    server = await smtp_world.serve(
        "127.0.0.5",
        rcpt_reply="550 5.1.8 <verify@leadsonar.test>: Sender address rejected: Domain not found",
    )
    _, client = live
    verdict = await _verify(client, "alex.johnson@senderpolicy.test")
    assert verdict["status"] == "unknown"
    assert server.rcpt_count == 1  # blocked: no more knocking
    found = await _find(client, "Alex", "Johnson", "senderpolicy.test")
    assert found["confidence"] == "low" and "refused the prober" in found["reason"]
    assert server.rcpt_count == 1


async def test_greylisting_after_a_rejection_is_not_taken_for_throttling(
    live: Live, dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    _domain(dns_zone, "greyreuse.test", "127.0.0.6")
    server = await smtp_world.serve(
        "127.0.0.6",
        mailboxes={"alex.johnson@greyreuse.test", "bob.grey@greyreuse.test"},
        greylist=True,
        greylist_delay=0.2,
    )
    _, client = live
    assert (await _find(client, "Alex", "Johnson", "greyreuse.test"))["confidence"] == "high"
    assert (await _find(client, "Bob", "Grey", "greyreuse.test"))["confidence"] == "high"
    nobody = await _find(client, "Yan", "Nobody", "greyreuse.test")
    assert nobody["email"] is None
    assert server.connections <= 2
