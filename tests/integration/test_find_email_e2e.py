"""find-email end to end: the spec's example bodies over HTTP against a real loopback DNS server
and real loopback SMTP servers (127.0.0.x), through the waterfall (known → smtp)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

SPEC_BODY = {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}


@pytest.fixture
async def live(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        rate_limit="1000/second",
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("e2e", credits=100)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            yield server, client


async def _find(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/find-email", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_rejecting_domain_gives_the_address_with_high_confidence(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("notion.so", [(10, "mx1.notion.so")])
    dns_zone.add_a("mx1.notion.so", "127.0.0.2")
    server = await smtp_world.serve("127.0.0.2", mailboxes={"alex.johnson@notion.so"})
    _, client = live
    body = await _find(client, SPEC_BODY)
    assert body["email"] == "alex.johnson@notion.so"
    assert body["confidence"] == "high"
    assert body["sources"] == 1
    assert body["credits_used"] == 1
    assert body["verification"] == "valid"
    assert server.connections == 1
    # first.last is the most common pattern and this server rejects unknowns: one RCPT for the
    # candidate, one random RCPT to rule out a catch-all, one for a numbered namesake
    # (alex.johnson2, issue 8 §3).
    assert server.rcpts == [
        "alex.johnson@notion.so",
        server.rcpts[1],
        "alex.johnson2@notion.so",
    ]


async def test_learned_pattern_is_tried_first(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("acme.test", [(10, "mx.acme.test")])
    dns_zone.add_a("mx.acme.test", "127.0.0.2")
    server = await smtp_world.serve("127.0.0.2", mailboxes={"jdoe@acme.test", "msmith@acme.test"})
    _, client = live
    first = await _find(client, {"firstName": "John", "lastName": "Doe", "website": "acme.test"})
    assert first["email"] == "jdoe@acme.test" and first["confidence"] == "high"
    before = server.rcpt_count
    second = await _find(client, {"firstName": "Mary", "lastName": "Smith", "website": "acme.test"})
    assert second["email"] == "msmith@acme.test" and second["confidence"] == "high"
    # The learned flast straight away, and no random RCPT (the domain is known not to be
    # catch-all); one more RCPT asks whether she has a full-name exception (mary.smith, which
    # would make msmith a colleague's) and one whether a numbered namesake (msmith2) exists.
    # The idle session of the first lookup is reused: still one connection.
    assert server.rcpts[before:] == [
        "msmith@acme.test",
        "mary.smith@acme.test",
        "msmith2@acme.test",
    ]
    assert server.connections == 1


async def test_person_who_does_not_exist_is_null(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("notion.so", [(10, "mx1.notion.so")])
    dns_zone.add_a("mx1.notion.so", "127.0.0.2")
    await smtp_world.serve("127.0.0.2", mailboxes={"alex.johnson@notion.so"})
    _, client = live
    body = await _find(client, {"firstName": "Nobody", "lastName": "Atall", "website": "notion.so"})
    assert body == body | {"email": None, "confidence": None, "sources": 0, "credits_used": 1}
    assert "rejected every likely address" in body["reason"]


async def test_catch_all_domain_is_never_high(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """FC-18: the real and the random RCPT are both accepted → accept-all, not high."""
    dns_zone.add_mx("figma.com", [(10, "mx.figma.com")])
    dns_zone.add_a("mx.figma.com", "127.0.0.3")
    await smtp_world.serve("127.0.0.3", catch_all=True)
    _, client = live
    body = await _find(client, {"firstName": "Sarah", "lastName": "Chen", "website": "figma.com"})
    assert body["email"] == "sarah.chen@figma.com"
    assert body["confidence"] in ("medium", "low")
    assert body["verification"] == "accept_all"


async def test_first_mx_refusing_connections_falls_back_to_the_next(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("linear.app", [(10, "mx1.linear.app"), (20, "mx2.linear.app")])
    dns_zone.add_a("mx1.linear.app", "127.0.0.9")  # nothing listens there
    dns_zone.add_a("mx2.linear.app", "127.0.0.4")
    server = await smtp_world.serve("127.0.0.4", mailboxes={"mike.lee@linear.app"})
    _, client = live
    body = await _find(client, {"firstName": "Mike", "lastName": "Lee", "website": "linear.app"})
    assert body["email"] == "mike.lee@linear.app"
    assert body["confidence"] == "high"
    assert server.connections == 1


async def test_null_mx_means_no_mail_and_no_connection(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """FC-15: ``0 .`` means the domain takes no mail: no SMTP, no A fallback."""
    dns_zone.add_null_mx("nomail.test")
    dns_zone.add_a("nomail.test", "127.0.0.5")
    server = await smtp_world.serve("127.0.0.5", catch_all=True)
    _, client = live
    body = await _find(
        client, {"firstName": "Alex", "lastName": "Johnson", "website": "nomail.test"}
    )
    assert body["email"] is None
    assert server.connections == 0


async def test_domain_without_mx_uses_its_a_record(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """FC-16: no MX but an A record → implicit MX, the domain's own host is probed."""
    dns_zone.add_a("implicit.test", "127.0.0.6")
    server = await smtp_world.serve("127.0.0.6", mailboxes={"alex.johnson@implicit.test"})
    _, client = live
    body = await _find(
        client, {"firstName": "Alex", "lastName": "Johnson", "website": "implicit.test"}
    )
    assert body["email"] == "alex.johnson@implicit.test"
    assert body["confidence"] == "high"
    assert server.connections == 1


async def test_multi_line_banner_is_read_to_its_last_line(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """FC-20: a three-line 220 greeting must not put replies out of step."""
    dns_zone.add_mx("banner.test", [(5, "mx.banner.test")])
    dns_zone.add_a("mx.banner.test", "127.0.0.7")
    await smtp_world.serve(
        "127.0.0.7",
        mailboxes={"alex.johnson@banner.test"},
        banner=["220-mx.banner.test ESMTP", "220-No UCE", "220 ready"],
    )
    _, client = live
    body = await _find(client, {**SPEC_BODY, "website": "banner.test"})
    assert body["email"] == "alex.johnson@banner.test"
    assert body["confidence"] == "high"


async def test_imported_contact_confirmed_by_the_mail_server_counts_two_sources(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("catchall.test", [(10, "mx.catchall.test")])
    dns_zone.add_a("mx.catchall.test", "127.0.0.8")
    await smtp_world.serve("127.0.0.8", mailboxes={"a.johnson@catchall.test"})
    server, client = live
    owner = await server.account_id("e2e")
    async with server.services.db.session() as session:
        row = {
            "firstname": "Alex",
            "lastname": "Johnson",
            "company": "",
            "website": "catchall.test",
            "email": "a.johnson@catchall.test",
            "phone": "",
        }
        await import_rows(session, [(2, row)], ImportReport(), owner)
    body = await _find(client, {**SPEC_BODY, "website": "catchall.test"})
    assert body["email"] == "a.johnson@catchall.test"
    assert body["confidence"] == "high"
    assert body["sources"] == 2


async def test_a_first_name_only_address_is_never_high(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    """``mike@`` exists, but every Mike there maps to it: without a team page naming this Mike
    it may be another Mike's (issue 8 §3: nobody who does not work there gets medium), so it is
    ``low``; ``test_namesakes.test_a_first_name_address_of_a_listed_person_is_medium``
    shows the spec's ``medium`` sample."""
    dns_zone.add_mx("linear.app", [(10, "mx.linear.app")])
    dns_zone.add_a("mx.linear.app", "127.0.0.4")
    await smtp_world.serve(
        "127.0.0.4", mailboxes={"mike@linear.app", "sarah@linear.app", "wei@linear.app"}
    )
    _, client = live
    mike = await _find(client, {"firstName": "Mike", "lastName": "Lee", "website": "linear.app"})
    sarah = await _find(client, {"firstName": "Sarah", "lastName": "Chen", "website": "linear.app"})
    wei = await _find(client, {"firstName": "Wei", "lastName": "Zhang", "website": "linear.app"})
    assert (mike["email"], mike["confidence"]) == ("mike@linear.app", "low")
    assert (sarah["email"], sarah["confidence"]) == ("sarah@linear.app", "low")
    assert (wei["email"], wei["confidence"]) == ("wei@linear.app", "low")
    assert mike["verification"] == "valid"


async def test_a_numbered_namesake_keeps_an_initials_address_below_high(
    live: tuple[LiveServer, httpx.AsyncClient], dns_zone: LoopbackDns, smtp_world: SmtpWorld
) -> None:
    dns_zone.add_mx("caspian.test", [(10, "mx.caspian.test")])
    dns_zone.add_a("mx.caspian.test", "127.0.0.5")
    await smtp_world.serve(
        "127.0.0.5", mailboxes={"lcelik@caspian.test", "lcelik2@caspian.test", "akaya@caspian.test"}
    )
    _, client = live
    akaya = await _find(client, {"firstName": "Ali", "lastName": "Kaya", "website": "caspian.test"})
    lcelik = await _find(
        client, {"firstName": "Ləman", "lastName": "Çelik", "website": "caspian.test"}
    )
    assert (akaya["email"], akaya["confidence"]) == ("akaya@caspian.test", "high")
    assert lcelik["email"] == "lcelik@caspian.test"
    # Issue 8 §3: two people map to lcelik@; the server cannot say which one is asked.
    assert lcelik["confidence"] == "low"
    assert lcelik["verification"] == "valid"
    assert "lcelik2@caspian.test" in lcelik["reason"]


async def test_the_prober_path_works_on_postgresql(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, postgres_url: str
) -> None:
    """Learned patterns, domain facts (MX, catch-all), the cache and the ledger on PostgreSQL."""
    dns_zone.add_mx("pg.test", [(10, "mx.pg.test")])
    dns_zone.add_a("mx.pg.test", "127.0.0.2")
    dns_zone.add_mx("pgall.test", [(10, "mx.pgall.test")])
    dns_zone.add_a("mx.pgall.test", "127.0.0.3")
    server = await smtp_world.serve("127.0.0.2", mailboxes={"jdoe@pg.test", "msmith@pg.test"})
    catch_all = await smtp_world.serve("127.0.0.3", catch_all=True)
    settings = make_net_settings(
        dns_zone, smtp_world, database_url=postgres_url, rate_limit="1000/second"
    )
    async with LiveServer(settings) as live:
        key = await live.create_account("pg", credits=10)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            john = await _find(
                client, {"firstName": "John", "lastName": "Doe", "website": "pg.test"}
            )
            mary = await _find(
                client, {"firstName": "Mary", "lastName": "Smith", "website": "pg.test"}
            )
            first = await _find(
                client, {"firstName": "Ann", "lastName": "Lee", "website": "pgall.test"}
            )
            again = await _find(
                client, {"firstName": "Bob", "lastName": "Ray", "website": "pgall.test"}
            )
            credits = (await client.get("/api/v1/credits")).json()
    assert (john["email"], john["confidence"]) == ("jdoe@pg.test", "high")
    assert (mary["email"], mary["confidence"]) == ("msmith@pg.test", "high")
    assert server.rcpts[-3:] == ["msmith@pg.test", "mary.smith@pg.test", "msmith2@pg.test"]
    assert first["verification"] == again["verification"] == "accept_all"
    assert catch_all.rcpt_count == 2  # the catch-all verdict was stored and reused
    assert credits == {"balance": 6, "totalEarned": 10, "totalSpent": 4}
