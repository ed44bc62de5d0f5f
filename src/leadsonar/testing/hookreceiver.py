"""A loopback webhook receiver for tests: records each POST and answers scripted statuses.

Example::

    async with HookReceiver(statuses=[500, 200]) as hook:
        ...  # give hook.url as webhookUrl
        call = await hook.next_call(timeout=10)
        assert verify(secret, call.body, call.headers["leadsonar-signature"])
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from leadsonar.testing.ports import free_port


@dataclass
class HookCall:
    """One request as received: lower-case header names, the exact body bytes."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class HookReceiver:
    """An HTTP/1.1 server on ``ip``:free port.

    Args:
        statuses: the status to answer to each request in turn; the last one repeats.
        ip: a loopback address.
        delay: seconds to wait before answering (to provoke the sender's timeout).
    """

    def __init__(self, statuses: list[int] | None = None, ip: str = "127.0.0.1", delay: float = 0):
        self.statuses = list(statuses or [200])
        self.ip = ip
        self.port = free_port()
        self.delay = delay
        self.calls: list[HookCall] = []
        self._queue: asyncio.Queue[HookCall] = asyncio.Queue()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}/hooks/leadsonar"

    async def next_call(self, timeout: float = 10.0) -> HookCall:
        """The next request received (waits up to ``timeout`` seconds)."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses[min(len(self.calls), len(self.statuses) - 1)]
            call = HookCall(method, path, headers, body, status)
            self.calls.append(call)
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
            self._queue.put_nowait(call)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, self.ip, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
