"""SMTP reply reading (RFC 5321 §4.2.1) and RCPT classification (RFC 3463): FC-20..FC-23."""

from __future__ import annotations

import asyncio

import pytest

from leadsonar.kit.net.smtp import (
    RcptVerdict,
    SmtpConnectionClosed,
    SmtpProtocolError,
    SmtpReply,
    classify_rcpt,
    parse_reply,
    read_reply,
    retry_hint,
)

V = RcptVerdict


def reply(*lines: str) -> SmtpReply:
    return parse_reply(lines)


def stream(data: bytes, *, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


# -- parsing ---------------------------------------------------------------------------------


def test_single_line_reply_with_enhanced_code() -> None:
    r = reply("550 5.1.1 <nora@example.com>: Recipient address rejected: User unknown")
    assert r.code == 550
    assert r.enhanced == "5.1.1"
    assert r.text == "5.1.1 <nora@example.com>: Recipient address rejected: User unknown"


def test_multi_line_reply_keeps_every_line() -> None:
    r = reply("552-5.2.2 over its storage quota", "552 5.2.2 see https://example.net/q")
    assert r.code == 552
    assert r.enhanced == "5.2.2"
    assert r.lines == ("5.2.2 over its storage quota", "5.2.2 see https://example.net/q")


def test_code_only_line_and_no_enhanced_code() -> None:
    r = reply("250")
    assert (r.code, r.enhanced, r.text) == (250, None, "")


def test_enhanced_code_class_must_match_reply_class() -> None:
    assert reply("250 5.1.1 odd").enhanced is None
    assert reply("250 2.1.5 Ok").enhanced == "2.1.5"


def test_fc21_code_comes_from_first_three_characters_only() -> None:
    """FC-21: the "550" inside the URL is text, never the reply code."""
    r = reply(
        "553 5.7.1 [BL21] Connections not accepted from 192.0.2.44, listed by a blocklist; "
        "see http://postmaster.example.net/550-bl23.html"
    )
    assert r.code == 553
    assert r.enhanced == "5.7.1"


@pytest.mark.parametrize("bad", ["", "OK", "25", "abc hello", "999 nope", "150 too low"])
def test_malformed_lines_are_protocol_errors(bad: str) -> None:
    with pytest.raises(SmtpProtocolError):
        parse_reply([bad])


def test_reply_cannot_end_with_a_continuation_line() -> None:
    with pytest.raises(SmtpProtocolError):
        parse_reply(["250-first"])


async def test_fc20_multi_line_banner_is_read_to_its_last_line() -> None:
    """FC-20: three banner lines form one reply; the next reply starts after them."""
    reader = stream(
        b"220-mx.example.test ESMTP\r\n220-No UCE, no UBE\r\n220 ready\r\n"
        b"250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
    )
    banner = await read_reply(reader, 1.0)
    assert banner.code == 220
    assert banner.lines == ("mx.example.test ESMTP", "No UCE, no UBE", "ready")
    ehlo = await read_reply(reader, 1.0)
    assert ehlo.code == 250
    assert len(ehlo.lines) == 3


async def test_read_reply_accepts_bare_newlines() -> None:
    reader = stream(b"250-a\n250 b\n")
    assert (await read_reply(reader, 1.0)).lines == ("a", "b")


async def test_read_reply_reports_a_connection_closed_mid_reply() -> None:
    with pytest.raises(SmtpConnectionClosed):
        await read_reply(stream(b"250-first line\r\n250 sec"), 1.0)


async def test_read_reply_times_out_on_an_unfinished_reply() -> None:
    with pytest.raises(TimeoutError):
        await read_reply(stream(b"220-still typing\r\n", eof=False), 0.05)


async def test_read_reply_refuses_endless_continuation() -> None:
    with pytest.raises(SmtpProtocolError):
        await read_reply(stream(b"250-x\r\n" * 200), 1.0)


# -- classification --------------------------------------------------------------------------

CASES = [
    # accepted
    (["250 2.1.5 OK"], V.ACCEPTED),
    (["250 OK"], V.ACCEPTED),
    (["251 2.1.5 User not local; will forward to <a@example.org>"], V.ACCEPTED),
    # rejected: user unknown, with and without enhanced codes
    (["550 5.1.1 <lena@example.com>: Recipient address rejected: User unknown"], V.REJECTED),
    (
        [
            "550-5.1.1 The email account that you tried to reach does not exist. Please try",
            "550-5.1.1 double-checking the recipient's email address for typos or",
            "550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser",
        ],
        V.REJECTED,
    ),
    (["550 No such user here"], V.REJECTED),
    (["553 sorry, that domain isn't in my list of allowed rcpthosts"], V.REJECTED),
    (["554 delivery error: dd This user doesn't have an account"], V.REJECTED),
    (["551 User not local; please try <a@example.org>"], V.REJECTED),
    (["501 5.1.3 Bad recipient address syntax"], V.REJECTED),
    (["550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found"], V.REJECTED),
    (
        ["550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [x.example.net]"],
        V.REJECTED,
    ),
    (["550 5.1.1 User unknown; see http://example.net/policy.html"], V.REJECTED),
    # full (FC-23): the mailbox exists
    (
        [
            "552-5.2.2 The email account that you tried to reach is over its storage quota.",
            "552 5.2.2 Please direct the recipient to https://support.example.net/quota",
        ],
        V.FULL,
    ),
    (["452 4.2.2 The email account that you tried to reach is over quota."], V.FULL),
    (["552 Mailbox full"], V.FULL),
    (["550 Requested action not taken: mailbox is full"], V.FULL),
    # disabled
    (["550 5.2.1 The email account that you tried to reach is disabled."], V.DISABLED),
    (["550 Account inactive"], V.DISABLED),
    # blocked (FC-21): the prober was refused, never a bad address
    (
        [
            "553 5.7.1 [BL21] Connections not accepted from 192.0.2.44, listed by a blocklist; "
            "see http://postmaster.example.net/550-bl23.html"
        ],
        V.BLOCKED,
    ),
    (
        ["550 5.7.1 Service unavailable; Client host [192.0.2.44] blocked using zen.example"],
        V.BLOCKED,
    ),
    (["554 5.7.1 Relay access denied"], V.BLOCKED),
    (["550 5.7.606 Access denied, banned sending IP [192.0.2.44]"], V.BLOCKED),
    (["554 IP blacklisted, see http://www.spamhaus.org/query/ip/192.0.2.44"], V.BLOCKED),
    (["550 see https://www.spamhaus.org/query/ip/192.0.2.44"], V.BLOCKED),
    (["550 5.1.1 Mail from 192.0.2.44 refused: listed by a DNSBL"], V.BLOCKED),
    (["550 Rejected due to low sender reputation"], V.BLOCKED),
    (["554 Message refused as spam"], V.BLOCKED),
    (["550 Relaying not permitted"], V.BLOCKED),
    (["550 Recipient rejected by policy"], V.BLOCKED),
    (["450 4.7.1 Client host rejected: blocked by blocklist"], V.BLOCKED),
    # temporary (FC-22)
    (
        ["450 4.7.1 <lena@example.com>: Recipient address rejected: Greylisted, retry in 300 s"],
        V.TEMPORARY,
    ),
    (["451 4.7.1 Greylisting in action, please come back later"], V.TEMPORARY),
    (["451 4.4.4 Temporary server error"], V.TEMPORARY),
    (["421 4.7.0 Too many connections, try again later"], V.TEMPORARY),
    (["452 4.5.3 Too many recipients"], V.TEMPORARY),
    (["450 4.1.1 <a@example.com>: unverified address: 550 5.1.1 User unknown"], V.TEMPORARY),
    (["451 4.7.1 blocked temporarily, try again later"], V.TEMPORARY),
    (["452 Insufficient system storage"], V.TEMPORARY),
    # unknown
    (["252 2.1.5 Cannot VRFY user, but will accept message"], V.UNKNOWN),
    (["503 5.5.1 Error: need MAIL command"], V.UNKNOWN),
    (["552 5.3.4 Message size exceeds fixed limit"], V.UNKNOWN),
    (["500 Error: command not recognized"], V.UNKNOWN),
    (["555 5.5.4 RCPT TO parameters not recognized"], V.UNKNOWN),
]


@pytest.mark.parametrize(("lines", "verdict"), CASES, ids=[c[0][0][:50] for c in CASES])
def test_classify_rcpt(lines: list[str], verdict: RcptVerdict) -> None:
    assert classify_rcpt(parse_reply(lines)) is verdict


def test_fc21_a_block_is_never_rejected_even_with_550_in_the_url() -> None:
    r = reply("553 5.7.1 refused; see http://postmaster.example.net/550-5.1.1-bl23.html")
    assert classify_rcpt(r) is V.BLOCKED


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("<a@b.test>: Recipient address rejected: Greylisted, retry in 300 s", 300.0),
        ("4.7.1 Please try again in 5 minutes", 300.0),
        ("Greylisting in action, please retry after 60 seconds", 60.0),
        ("Greylisted for 2 min", 120.0),
        ("4.7.1 wait 2 min before retrying", 120.0),
        ("Greylisted, see http://postgrey.schweikert.ch/help/x.test.html", None),
        ("Try again later", None),
        ("4.2.2 mailbox full, 2 messages", None),
    ],
)
def test_a_temporary_replys_retry_hint_is_read(text: str, seconds: float | None) -> None:
    assert retry_hint(text) == seconds
