"""The RCPT prober against real SMTP servers on loopback (FC-15, FC-16, FC-18, FC-20..FC-23)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from leadsonar.config import Settings
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.smtp import ProbeResult, RcptVerdict, probe
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.smtpserver import SmtpWorld

V = RcptVerdict
DOMAIN = "example.test"
NORA = ["nora.okeeffe@example.test", "nokeeffe@example.test", "nora@example.test"]


async def run_probe(
    settings: Settings, addresses: list[str], domain: str = DOMAIN, **options: Any
) -> ProbeResult:
    resolver = Resolver.from_settings(settings)
    mx = await resolver.mx_hosts(domain)
    return await probe(domain, addresses, mx=mx, resolver=resolver, settings=settings, **options)


def one_mx(dns: LoopbackDns, ip: str = "127.0.0.2", domain: str = DOMAIN) -> None:
    dns.add_mx(domain, [(10, f"mx1.{domain}")])
    dns.add_a(f"mx1.{domain}", ip)


def two_mx(dns: LoopbackDns, ip1: str, ip2: str) -> None:
    dns.add_mx(DOMAIN, [(20, "mx2.example.test"), (10, "mx1.example.test")])
    dns.add_a("mx1.example.test", ip1)
    dns.add_a("mx2.example.test", ip2)


async def test_rejecting_server_finds_the_one_mailbox(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", mailboxes={"nokeeffe@example.test"})

    result = await run_probe(net_settings, NORA)

    assert result.accepted == ["nokeeffe@example.test"]
    assert result.verdicts["nora.okeeffe@example.test"].verdict is V.REJECTED
    assert result.verdicts["nora.okeeffe@example.test"].code == 550
    assert result.verdicts["nora.okeeffe@example.test"].enhanced == "5.1.1"
    assert "nora@example.test" not in result.verdicts  # stopped at the first accept
    assert result.catch_all is False  # a rejection already proved it; no random RCPT sent
    assert (result.mx_host, result.connections, result.rcpts) == ("mx1.example.test", 1, 2)
    assert (server.connections, server.rcpts) == (1, NORA[:2])
    assert not result.blocked and not result.no_mail and result.error is None


async def test_first_candidate_accepted_then_random_probe_rejected(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", mailboxes={"nora.okeeffe@example.test"})

    result = await run_probe(net_settings, NORA)

    assert result.accepted == ["nora.okeeffe@example.test"]
    assert result.catch_all is False
    assert result.rcpts == server.rcpt_count == 2
    assert server.rcpts[0] == "nora.okeeffe@example.test"
    assert server.rcpts[1].endswith("@example.test") and server.rcpts[1] not in NORA


async def test_all_candidates_without_stopping(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", mailboxes={"nokeeffe@example.test"})

    result = await run_probe(net_settings, NORA, stop_at_first_accept=False)

    assert [r.verdict for r in result.verdicts.values()] == [V.REJECTED, V.ACCEPTED, V.REJECTED]
    assert server.rcpts == NORA


async def test_fc18_catch_all_server(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", catch_all=True)

    result = await run_probe(net_settings, NORA)

    assert result.accepted == [NORA[0]]
    assert result.catch_all is True
    assert result.catch_all_reply is not None and result.catch_all_reply.code == 250
    assert result.rcpts == server.rcpt_count == 2  # the candidate, then the random address


async def test_catch_all_probe_can_be_switched_off(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", catch_all=True)

    result = await run_probe(net_settings, NORA, catch_all_probe=False)

    assert result.catch_all is None
    assert server.rcpts == NORA[:1]


async def test_first_mx_refuses_connection_second_is_used(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    two_mx(dns_zone, "127.0.0.9", "127.0.0.3")  # nothing listens on 127.0.0.9
    mx2 = await smtp_world.serve("127.0.0.3", mailboxes={"nokeeffe@example.test"})

    result = await run_probe(net_settings, NORA)

    assert result.accepted == ["nokeeffe@example.test"]
    assert result.mx_host == "mx2.example.test"
    assert result.connections == 1 == mx2.connections
    assert "mx1.example.test[127.0.0.9]" in result.host_errors


async def test_preferred_mx_is_used_first(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    two_mx(dns_zone, "127.0.0.2", "127.0.0.3")
    mx1 = await smtp_world.serve("127.0.0.2", mailboxes={"nokeeffe@example.test"})
    mx2 = await smtp_world.serve("127.0.0.3", mailboxes={"nokeeffe@example.test"})

    result = await run_probe(net_settings, NORA)

    assert result.mx_host == "mx1.example.test"
    assert (mx1.connections, mx2.connections) == (1, 0)


async def test_fc20_multi_line_banner(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    banner = ["220-mx1.example.test ESMTP", "220-No UCE, no UBE, 550 if you try", "220 ready"]
    await smtp_world.serve("127.0.0.2", banner=banner, mailboxes={NORA[0]})

    result = await run_probe(net_settings, NORA)

    assert result.verdicts[NORA[0]].verdict is V.ACCEPTED
    assert result.catch_all is False


async def test_fc21_rcpt_blocklist_refusal_is_blocked_never_rejected(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", block_rcpt=True)

    result = await run_probe(net_settings, NORA)

    assert {r.verdict for r in result.verdicts.values()} == {V.BLOCKED}
    assert len(result.verdicts) == 3
    first = result.verdicts[NORA[0]]
    assert (first.code, first.enhanced) == (553, "5.7.1")
    assert "listed by a blocklist" in first.text
    assert result.blocked and result.catch_all is None


async def test_fc21_blacklisted_greeting_blocks_without_trying_other_mx(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    two_mx(dns_zone, "127.0.0.2", "127.0.0.3")
    await smtp_world.serve(
        "127.0.0.2", banner=["554 5.7.1 Service unavailable; IP blacklisted, see spamhaus"]
    )
    mx2 = await smtp_world.serve("127.0.0.3", catch_all=True)

    result = await run_probe(net_settings, NORA)

    assert result.blocked
    assert {r.verdict for r in result.verdicts.values()} == {V.BLOCKED}
    assert result.verdicts[NORA[0]].code == 554
    assert result.rcpts == 0 and mx2.connections == 0


async def test_fc22_greylisting_is_temporary_then_passes_on_retry(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", greylist=True, mailboxes={NORA[0]})

    first = await run_probe(net_settings, NORA[:1])
    assert first.verdicts[NORA[0]].verdict is V.TEMPORARY
    assert first.catch_all is None  # nothing accepted: no random RCPT

    retry = await run_probe(net_settings, NORA[:1])
    assert retry.verdicts[NORA[0]].verdict is V.ACCEPTED


async def test_fc22_temporary_error_for_real_and_random(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", rcpt_reply="451 4.4.4 Temporary server error")

    result = await run_probe(net_settings, NORA)

    assert {r.verdict for r in result.verdicts.values()} == {V.TEMPORARY}
    assert result.catch_all is None and not result.blocked


async def test_fc23_full_mailbox_exists(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", full={NORA[0]})

    result = await run_probe(net_settings, NORA, stop_at_first_accept=False)

    full = result.verdicts[NORA[0]]
    assert (full.verdict, full.code, full.enhanced) == (V.FULL, 552, "5.2.2")
    assert "storage quota" in full.text
    assert result.verdicts[NORA[1]].verdict is V.REJECTED  # the next reply was read in step


async def test_disabled_mailbox(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", disabled={NORA[0]})

    result = await run_probe(net_settings, NORA[:1])

    assert result.verdicts[NORA[0]].verdict is V.DISABLED


async def test_loopback_mx_refused_without_allowed_networks(
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    net_settings_with: Callable[..., Settings],
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", catch_all=True)

    result = await run_probe(net_settings_with(allowed_private_networks=[]), NORA)

    assert server.connections == 0
    assert result.connections == 0 and result.rcpts == 0
    assert "LEADSONAR_ALLOWED_PRIVATE_NETWORKS" in result.host_errors["mx1.example.test[127.0.0.2]"]
    assert result.error is not None
    assert {r.verdict for r in result.verdicts.values()} == {V.UNKNOWN}


async def test_fc15_null_mx_makes_no_connection(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    dns_zone.add_null_mx(DOMAIN)
    dns_zone.add_a(DOMAIN, "127.0.0.2")
    server = await smtp_world.serve("127.0.0.2", catch_all=True)

    result = await run_probe(net_settings, NORA)

    assert result.no_mail and result.verdicts == {}
    assert result.connections == 0 == server.connections


async def test_nxdomain_makes_no_connection(net_settings: Settings):
    result = await run_probe(net_settings, ["a@gone.test"], domain="gone.test")
    assert result.no_mail and result.connections == 0


async def test_fc16_implicit_mx_probes_the_domain_itself(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    dns_zone.add_a(DOMAIN, "127.0.0.4")
    server = await smtp_world.serve("127.0.0.4", mailboxes={NORA[0]})

    result = await run_probe(net_settings, NORA)

    assert result.mx_host == DOMAIN
    assert result.accepted == [NORA[0]]
    assert server.connections == 1


async def test_dns_failure_is_an_error_without_connection(
    dns_zone: LoopbackDns, net_settings: Settings
):
    dns_zone.fail(DOMAIN, "servfail")
    result = await run_probe(net_settings, NORA)
    assert result.error is not None and not result.no_mail
    assert result.connections == 0 and result.verdicts == {}


async def test_ehlo_refused_falls_back_to_helo(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", reject_ehlo=True, mailboxes={NORA[0]})

    result = await run_probe(net_settings, NORA)

    assert result.accepted == [NORA[0]]


async def test_421_mid_session_moves_the_rest_to_the_next_mx(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    two_mx(dns_zone, "127.0.0.2", "127.0.0.3")
    closing = "421 4.7.0 mx1.example.test Too many errors, closing transmission channel"
    await smtp_world.serve("127.0.0.2", rcpt_replies={NORA[1]: closing})
    mx2 = await smtp_world.serve("127.0.0.3", mailboxes={NORA[2]})

    result = await run_probe(net_settings, NORA)

    assert result.verdicts[NORA[0]].verdict is V.REJECTED  # from mx1
    assert result.accepted == [NORA[2]]  # from mx2
    assert mx2.rcpts[:2] == NORA[1:]
    assert result.connections == 2 and result.mx_host == "mx2.example.test"


async def test_421_everywhere_leaves_the_rest_temporary(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", rcpt_reply="421 4.3.2 System shutting down")

    result = await run_probe(net_settings, NORA)

    assert {r.verdict for r in result.verdicts.values()} == {V.TEMPORARY}
    assert result.verdicts[NORA[2]].code == 421
    assert result.rcpts == 1 and result.error is not None


async def test_tarpit_banner_times_out_and_next_mx_is_used(
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    net_settings_with: Callable[..., Settings],
):
    two_mx(dns_zone, "127.0.0.2", "127.0.0.3")
    await smtp_world.serve("127.0.0.2", banner_delay=5)
    await smtp_world.serve("127.0.0.3", mailboxes={NORA[0]})

    result = await run_probe(net_settings_with(smtp_banner_timeout=0.2), NORA)

    assert result.accepted == [NORA[0]]
    assert "in time" in result.host_errors["mx1.example.test[127.0.0.2]"]


async def test_slow_rcpt_is_bounded_by_smtp_timeout(
    dns_zone: LoopbackDns,
    smtp_world: SmtpWorld,
    net_settings_with: Callable[..., Settings],
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", rcpt_delay=5, mailboxes={NORA[0]})

    result = await run_probe(net_settings_with(smtp_timeout=0.2), NORA[:1])

    assert result.verdicts[NORA[0]].verdict is V.TEMPORARY
    assert result.error is not None


async def test_slow_rcpt_within_the_timeout_is_fine(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    await smtp_world.serve("127.0.0.2", rcpt_delay=0.05, mailboxes={NORA[0]})

    result = await run_probe(net_settings, NORA[:1], catch_all_probe=False)

    assert result.accepted == [NORA[0]]


async def test_cancelling_a_probe_closes_the_connection(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, net_settings: Settings
):
    one_mx(dns_zone)
    server = await smtp_world.serve("127.0.0.2", banner_delay=5)

    task = asyncio.create_task(run_probe(net_settings, NORA))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if server.connections:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if not server.open_connections:
            break
        await asyncio.sleep(0.01)
    assert server.connections == 1 and server.open_connections == 0


@pytest.mark.parametrize(
    "bad", ["a@example.test>\r\nDATA", "a b@example.test", "no-at-sign", "<a@example.test>"]
)
async def test_addresses_that_would_inject_commands_are_refused(
    bad: str, net_settings: Settings, net_resolver: Resolver
):
    mx = await net_resolver.mx_hosts(DOMAIN)
    with pytest.raises(ValueError):
        await probe(DOMAIN, [bad], mx=mx, resolver=net_resolver, settings=net_settings)


async def test_an_address_shared_by_two_mx_names_is_tried_once(
    dns_zone: LoopbackDns, net_settings: Settings
):
    two_mx(dns_zone, "127.0.0.9", "127.0.0.9")  # both names, one refusing address

    result = await run_probe(net_settings, NORA)

    assert list(result.host_errors) == ["mx1.example.test[127.0.0.9]"]
    assert {r.verdict for r in result.verdicts.values()} == {V.TEMPORARY}
    assert result.verdicts[NORA[0]].code is None and result.connections == 0


@pytest.mark.asyncio
async def test_a_slow_greeting_servers_idle_session_is_kept_longer(
    smtp_world: SmtpWorld, net_settings: Settings
) -> None:
    # A tarpit holds the 220 for a second or more: reconnecting would cost it again, so its
    # idle session outlives LEADSONAR_SMTP_IDLE_SECONDS (RFC 5321 §4.5.3.2.7 gives 5 minutes).
    from leadsonar.kit.net.smtp_pool import SLOW_GREETING_KEEP, SmtpPool

    await smtp_world.serve("127.0.0.2", mailboxes=set(), banner_delay=1.1)
    await smtp_world.serve("127.0.0.3", mailboxes=set())
    pool = SmtpPool(net_settings, idle_seconds=0.01)
    try:
        kept: dict[str, object] = {}
        for ip in ("127.0.0.2", "127.0.0.3"):
            async with pool.lease(ip, "mx.test") as (leased, opened):
                assert opened
                kept[ip] = pool.keep_idle(leased)
            await asyncio.sleep(0.05)  # longer than idle_seconds
            async with pool.lease(ip, "mx.test") as (_, opened):
                kept[ip + " reopened"] = opened
        assert kept["127.0.0.2"] == SLOW_GREETING_KEEP and not kept["127.0.0.2 reopened"]
        assert kept["127.0.0.3"] == 0.01 and kept["127.0.0.3 reopened"]
    finally:
        await pool.aclose()
