"""One SMTP client session: exact reply reading and the greeting (RFC 5321).

Written on :func:`asyncio.open_connection` rather than :mod:`smtplib` so that every reply is read
exactly to its last line (RFC 5321 §4.2.1) and every phase has its own timeout in seconds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from leadsonar.config import Settings

MAX_REPLY_LINES = 100
"""Lines one reply may have before the server is treated as broken."""

MAX_LINE_BYTES = 8192
"""Bytes one reply line may have (RFC 5321 §4.5.3.1.5 says 512; servers exceed it)."""

QUIT_TIMEOUT = 5.0
"""Seconds at most to wait for the reply to QUIT (the answer does not matter)."""


# --------------------------------------------------------------------------------------------
# Replies


class SmtpError(Exception):
    """The SMTP dialogue broke down (base of the errors below)."""


class SmtpProtocolError(SmtpError):
    """The server sent something that is not an SMTP reply."""


class SmtpConnectionClosed(SmtpError):
    """The server closed the connection before finishing its reply."""


_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


@dataclass(frozen=True)
class SmtpReply:
    """One complete SMTP reply.

    Attributes:
        code: the three-digit reply code, from the first three characters of the first line only
            (FC-21: a ``550`` inside the text or a URL is never the code).
        enhanced: the RFC 3463 enhanced status code at the start of the text (``"5.1.1"``), or
            ``None``; it is only taken when its class digit agrees with ``code``.
        lines: the text of each line after the code and its separator, in order.
    """

    code: int
    enhanced: str | None
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """All lines' text joined with single spaces."""
        return " ".join(line.strip() for line in self.lines if line.strip())

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


def parse_reply(lines: Sequence[str]) -> SmtpReply:
    """Build a reply from its raw lines (``"250-first"``, …, ``"250 last"``).

    Args:
        lines: the reply's lines with or without their CRLF; the last one must be final.

    Returns:
        The :class:`SmtpReply`.

    Raises:
        SmtpProtocolError: no lines, a line that does not start with a three-digit code in
            200..599, or a continuation line (``-`` as 4th character) in last place.
    """
    if not lines:
        raise SmtpProtocolError("empty reply")
    texts = []
    code = 0
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if len(line) < 3 or not line[:3].isdigit() or not "200" <= line[:3] <= "599":
            raise SmtpProtocolError(f"not an SMTP reply line: {line[:80]!r}")
        if index == 0:
            code = int(line[:3])
        if line[3:4] == "-" and index == len(lines) - 1:
            raise SmtpProtocolError("the reply ends with a continuation line")
        texts.append(line[4:])
    enhanced = None
    match = _ENHANCED.match(texts[0])
    if match and match.group(1) == str(code)[0]:
        enhanced = ".".join(match.groups())
    return SmtpReply(code=code, enhanced=enhanced, lines=tuple(texts))


async def read_reply(reader: asyncio.StreamReader, timeout: float) -> SmtpReply:
    """Read one whole reply, multi-line included (RFC 5321 §4.2.1).

    Lines whose 4th character is ``-`` continue the reply; the first line whose 4th character is
    a space (or that has only the code) ends it (FC-20).

    Args:
        reader: the connection's stream.
        timeout: seconds for the whole reply.

    Raises:
        TimeoutError: the reply was not complete within ``timeout``.
        SmtpConnectionClosed: the server closed the connection mid-reply.
        SmtpProtocolError: a malformed or over-long line, or more than
            :data:`MAX_REPLY_LINES` lines.
    """
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            try:
                raw = await reader.readline()
            except ValueError as error:  # StreamReader's limit: a line over MAX_LINE_BYTES
                raise SmtpProtocolError("reply line too long") from error
            if not raw.endswith(b"\n"):
                raise SmtpConnectionClosed("the server closed the connection")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            lines.append(line)
            if line[3:4] != "-":
                return parse_reply(lines)
            if len(lines) >= MAX_REPLY_LINES:
                raise SmtpProtocolError(f"reply longer than {MAX_REPLY_LINES} lines")


class NextHost(Exception):
    """This host cannot serve the probe now: try the next address or MX host."""

    def __init__(self, reason: str, reply: SmtpReply | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply
        # set by the pool: a 421 greeting taught the server's session cap (lease again)
        self.session_cap = False


class Refused(Exception):
    """The server refused the prober itself (5xx banner, HELO or MAIL FROM)."""

    def __init__(self, reply: SmtpReply) -> None:
        super().__init__(str(reply))
        self.reply = reply


class Session:
    """One SMTP connection, one command at a time."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, settings: Settings
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.settings = settings

    async def command(self, line: str, timeout: float | None = None) -> SmtpReply:
        timeout = self.settings.smtp_timeout if timeout is None else timeout
        async with asyncio.timeout(timeout):
            self.writer.write(line.encode("utf-8") + b"\r\n")
            await self.writer.drain()
            return await read_reply(self.reader, timeout)

    async def quit(self) -> None:
        try:
            await self.command("QUIT", min(self.settings.smtp_timeout, QUIT_TIMEOUT))
        except (OSError, SmtpError, TimeoutError):
            pass  # the verdicts are in; a server that drops QUIT changes nothing

    def close(self) -> None:
        self.writer.close()


async def greet(session: Session, settings: Settings) -> None:
    """Banner, EHLO (or HELO), MAIL FROM. Raises NextHost or Refused."""
    banner = await read_reply(session.reader, settings.smtp_banner_timeout)
    if banner.code != 220:
        if 500 <= banner.code < 600:
            raise Refused(banner)  # RFC 5321 §3.1: 554 greeting = no service for us
        raise NextHost(f"the greeting was {banner}", banner)

    hello = await session.command(f"EHLO {settings.smtp_helo_name}")
    if hello.code != 250 and hello.code != 421:
        hello = await session.command(f"HELO {settings.smtp_helo_name}")  # RFC 5321 §4.1.4
    expect_250(hello, "HELO")

    sender = await session.command(f"MAIL FROM:<{settings.mail_from}>")
    expect_250(sender, "MAIL FROM")


def expect_250(reply: SmtpReply, phase: str) -> None:
    if reply.code == 250:
        return
    if 500 <= reply.code < 600:
        raise Refused(reply)
    raise NextHost(f"{phase} was answered {reply}", reply)
