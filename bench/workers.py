"""Queue workers scale out (issue 10 §7): bulk-job throughput with 1, 2 and 4 ``leadsonar worker``
processes on PostgreSQL, and against a rate-limited provider.

Real processes, as deployed: one ``leadsonar serve --no-worker`` takes the jobs, N
``leadsonar worker --concurrency C`` processes work them; PostgreSQL and Redis are the local
services (``LEADSONAR_TEST_POSTGRES_URL``, ``LEADSONAR_TEST_REDIS_URL``, as the tests use; each
run gets a fresh database, dropped afterwards). The paid provider is a stand-in on loopback that
answers after ``LATENCY`` seconds, defined by configuration (a declarative provider).

1. **Scaling**: ``CONTACTS`` contacts (20 jobs of 100, the API's per-request maximum) with no
   provider rate limit; workers 1 → 2 → 4 at the same concurrency each. Throughput is contacts
   answered per second from the first submission to the last result written.
2. **Rate-limited**: the provider limited to ``RATE``/second (shared by the workers through
   Redis); throughput against the limit, and the most calls the provider saw in any second.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import save
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.ports import free_port
from leadsonar.testing.providerapi import Call, ProviderApi, Reply

POSTGRES_URL = os.environ.get(
    "LEADSONAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LEADSONAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LEADSONAR = str(Path(sys.executable).with_name("leadsonar"))
PATH = "/v1/person/email"

CONTACTS = 2000
JOB_SIZE = 100
LATENCY = 0.2
CONCURRENCY = 4  # per worker; `./run bench workers --concurrency N` to change
WORKERS = (1, 2, 4)
RATE = 10
RATE_CONTACTS = 300
RATE_WORKERS = 2


def _answer(call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    email = f"{str(body.get('first')).lower()}.{str(body.get('last')).lower()}@{body.get('domain')}"
    return Reply({"email": email, "status": "valid"}, delay=LATENCY)


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class Database:
    """A fresh PostgreSQL database for one run."""

    def __init__(self) -> None:
        self.name = f"leadsonar_b_{uuid.uuid4().hex[:12]}"
        base, _, _ = POSTGRES_URL.rpartition("/")
        self.url = f"{base}/{self.name}"
        self._poll: psycopg.Connection | None = None

    def __enter__(self) -> Database:
        with psycopg.connect(_admin(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *_: object) -> None:
        if self._poll is not None:
            self._poll.close()
        with psycopg.connect(_admin(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def done(self) -> int:
        """Items done so far (one connection kept for polling: a new one per poll would cost
        the server a backend process each time)."""
        if self._poll is None:
            self._poll = psycopg.connect(_admin(self.url), autocommit=True)
        row = self._poll.execute(
            "SELECT count(*) FROM enrichment_items WHERE status = 'done'"
        ).fetchone()
        return int(row[0]) if row else 0

    def right(self) -> int:
        with psycopg.connect(_admin(self.url)) as conn:
            row = conn.execute(
                "SELECT count(*) FROM enrichment_items WHERE status = 'done' AND email = "
                "lower(first_name) || '.' || lower(last_name) || '@' || website"
            ).fetchone()
        return int(row[0]) if row else 0


async def _spawn(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            LEADSONAR, *args, env=env, stdout=handle, stderr=handle
        )
    finally:
        handle.close()


async def _until(check: Any, process: asyncio.subprocess.Process, log: Path) -> None:
    for _ in range(1200):
        if await check():
            return
        if process.returncode is not None:
            raise RuntimeError(log.read_text())
        await asyncio.sleep(0.1)
    raise RuntimeError("did not start:\n" + log.read_text())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc), 0.0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_once(workers: int, contacts: int, rate: int | None, tmp: Path) -> dict[str, Any]:
    """One topology: 1 API process, ``workers`` worker processes, ``contacts`` contacts."""
    name = f"paid{uuid.uuid4().hex[:8]}"
    processes: list[asyncio.subprocess.Process] = []
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer)
        providers = tmp / f"{name}.toml"
        providers.write_text(
            f"[declarative_providers.{name}]\n"
            'fields = ["email"]\nmethod = "POST"\n'
            f'url = "{api.url}{PATH}"\napi_key = "stand-in-key"\n'
            'body = { first = "{first_name}", last = "{last_name}", domain = "{domain}" }\n'
            'email_path = "email"\nstatus_path = "status"\nstatuses = { valid = "high" }\n'
            "concurrency = 1000\n" + (f'rate_limit = "{rate}/second"\n' if rate else ""),
            encoding="utf-8",
        )
        with LoopbackDns() as dns, Database() as database:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSONAR_")}
            env.update(
                LEADSONAR_DATABASE_URL=database.url,
                LEADSONAR_RATE_LIMIT_STORAGE=REDIS_URL,
                LEADSONAR_DNS_SERVERS=dns.address,
                LEADSONAR_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
                LEADSONAR_SMTP_HELO_NAME="probe.leadsonar.test",
                LEADSONAR_PROVIDERS=f"email={name};phone=",
                LEADSONAR_DECLARATIVE_PROVIDERS_FILE=str(providers),
                LEADSONAR_LOOKUP_CACHE_TTL="0",
                LEADSONAR_RATE_LIMIT="100000/second",
                LEADSONAR_INITIAL_CREDITS=str(contacts),
                LEADSONAR_JOB_POLL_INTERVAL="0.5",
            )
            port = free_port()
            logs = tmp / f"{name}-api.log"
            try:
                api_process = await _spawn(env, logs, "serve", "--no-worker", "--port", str(port))
                processes.append(api_process)
                async with httpx.AsyncClient(timeout=60) as client:

                    async def healthy() -> bool:
                        try:
                            answer = await client.get(f"http://127.0.0.1:{port}/healthz")
                        except httpx.TransportError:
                            return False
                        return answer.status_code == 200

                    await _until(healthy, api_process, logs)
                    key = next(
                        line for line in logs.read_text().splitlines() if line.startswith("ls_")
                    )
                    for index in range(workers):
                        log = tmp / f"{name}-w{index}.log"
                        process = await _spawn(
                            env, log, "worker", "--concurrency", str(CONCURRENCY)
                        )
                        processes.append(process)

                        async def ready(log: Path = log) -> bool:
                            return "working bulk-job items" in log.read_text()

                        await _until(ready, process, log)
                    headers = {"Authorization": f"Bearer {key}"}
                    began = time.monotonic()
                    for start in range(0, contacts, JOB_SIZE):
                        accepted = await client.post(
                            f"http://127.0.0.1:{port}/api/v1/enrich",
                            headers=headers,
                            json={
                                "contacts": [
                                    {
                                        "firstName": f"P{i}",
                                        "lastName": "Lee",
                                        "website": f"company{i % 50}.test",
                                    }
                                    for i in range(start, min(start + JOB_SIZE, contacts))
                                ]
                            },
                        )
                        assert accepted.status_code == 202, accepted.text
                    done = 0
                    for _ in range(14_400):  # an hour at most
                        done = await asyncio.to_thread(database.done)
                        if done >= contacts:
                            break
                        await asyncio.sleep(0.25)
                    took = time.monotonic() - began
                    right = await asyncio.to_thread(database.right)
                    cpu = sum(_cpu_seconds(p.pid) for p in processes[1:])
            finally:
                await asyncio.gather(*(_stop(p) for p in processes))
    return {
        "workers": workers,
        "concurrencyPerWorker": CONCURRENCY,
        "contacts": contacts,
        "answeredRight": right,
        "providerCalls": api.count("POST", PATH),
        "seconds": round(took, 2),
        "contactsPerSecond": round(done / took, 1),
        "providerMaxPerSecond": api.max_per_second(PATH),
        "workerCpuMsPerContact": round(1000 * cpu / max(done, 1), 1),
        "loadAverage": round(os.getloadavg()[0], 1),
    }


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        scaling = []
        for workers in WORKERS:
            figures = await run_once(workers, CONTACTS, None, Path(tmp))
            scaling.append(figures)
            print(
                f"{workers} worker(s) x {CONCURRENCY}: {figures['contactsPerSecond']} contacts/s "
                f"({figures['seconds']} s, {figures['answeredRight']}/{CONTACTS} right, "
                f"{figures['providerCalls']} provider calls)",
                flush=True,
            )
        base = scaling[0]["contactsPerSecond"]
        for figures in scaling:
            figures["speedup"] = round(figures["contactsPerSecond"] / base, 2)
        limited = await run_once(RATE_WORKERS, RATE_CONTACTS, RATE, Path(tmp))
        limited["rateLimit"] = RATE
        limited["ofLimit"] = round(limited["contactsPerSecond"] / RATE, 3)
        print(
            f"rate-limited to {RATE}/s, {RATE_WORKERS} workers: "
            f"{limited['contactsPerSecond']} contacts/s = {limited['ofLimit']} x the limit; "
            f"provider saw at most {limited['providerMaxPerSecond']} in any second",
            flush=True,
        )
    return {
        "latencySeconds": LATENCY,
        "cpus": os.cpu_count(),
        "scaling": scaling,
        "speedupAt4": scaling[-1]["speedup"],
        "rateLimited": limited,
    }


def main(argv: list[str]) -> None:
    global CONCURRENCY
    if "--concurrency" in argv:
        CONCURRENCY = int(argv[argv.index("--concurrency") + 1])
    figures = asyncio.run(run())
    path = save("workers", figures)
    print(f"speedup at 4 workers: {figures['speedupAt4']}x; saved {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
