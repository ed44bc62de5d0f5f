"""Limits before work, measured (issue 12): ``leadsonar serve`` as a process, then a 200 MB
chunked body with an invalid key and a 100 MB chunked body with a valid key to find-email.

Reported: the answer each got and how fast, the server's resident memory (RSS, MB) before and
after, and the account's balance afterwards (nothing may be charged). Before issue 12 the first
was read whole before its 401 (RSS 464 → 810 MB) and the second answered 200 and charged.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import save
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.ports import free_port

MIB = 1024 * 1024


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def _chunked_post(port: int, headers: dict[str, str], megabytes: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "POST /api/v1/find-email HTTP/1.1\r\nHost: bench\r\nTransfer-Encoding: chunked\r\n"
    head += "Content-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode())
    chunk = b"x" * MIB
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    started = time.perf_counter()
    status = "no answer"
    try:
        for _ in range(megabytes):
            if answer.done():
                break
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0)
        status = (await asyncio.wait_for(answer, 60)).split(b"\r\n")[0].decode()
    except (ConnectionError, asyncio.IncompleteReadError):
        if answer.done() and not answer.cancelled() and answer.exception() is None:
            status = answer.result().split(b"\r\n")[0].decode()
    finally:
        answer.cancel()
        writer.close()
    return {"status": status, "seconds": round(time.perf_counter() - started, 3)}


async def measure(port: int, key: str, pid: int) -> dict[str, Any]:
    """The two requests against the server on ``port`` (process ``pid``)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(300):
            try:
                await client.get("/healthz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        figures: dict[str, Any] = {"rss_mb_at_start": _rss_mb(pid)}
        figures["invalid_key_200mb"] = await _chunked_post(
            port, {"X-API-Key": "ls_live_invalid"}, 200
        )
        figures["rss_mb_after_invalid_key"] = _rss_mb(pid)
        figures["valid_key_100mb"] = await _chunked_post(port, {"X-API-Key": key}, 100)
        figures["rss_mb_after_valid_key"] = _rss_mb(pid)
        balance = await client.get("/api/v1/credits", headers={"X-API-Key": key})
        figures["balance_before"] = 5
        figures["balance_after"] = balance.json()["balance"]
    return figures


def run() -> dict[str, Any]:
    """Start ``leadsonar serve`` on a fresh database and loopback DNS, then :func:`measure`."""
    folder = tempfile.mkdtemp(prefix="leadsonar-edge-")
    leadsonar = str(Path(sys.executable).with_name("leadsonar"))
    with LoopbackDns() as dns:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSONAR_")}
        env |= {
            "LEADSONAR_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/edge.db",
            "LEADSONAR_DNS_SERVERS": dns.address,
            "LEADSONAR_SMTP_HELO_NAME": "probe.leadsonar.test",
            "LEADSONAR_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        }
        created = subprocess.run(
            [leadsonar, "accounts", "create", "edge", "--credits", "5"],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
        key = created.stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [leadsonar, "serve", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            return asyncio.run(measure(port, key, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=10)


def main(argv: list[str]) -> None:
    figures = run()
    path = save("edge", figures)
    for key, value in figures.items():
        print(f"{key:28} {value}")
    print(f"saved {path}")
