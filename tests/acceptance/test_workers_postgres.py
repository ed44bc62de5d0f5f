"""Issue 10 acceptance: the compose topology as plain processes on real PostgreSQL and Redis.

Two ``leadsonar serve --no-worker`` API processes and two ``leadsonar worker`` processes share
one database; a stand-in paid provider (250 ms per answer) counts its calls per contact. Three
jobs of 100 contacts go in across both APIs; two seconds in, one worker gets SIGKILL and a third
worker starts. All jobs complete with 300 right answers and 300 credits spent, and the provider
was asked at most 300 + (the killed worker's concurrency) times: only the items the killed worker
had in flight may be asked twice.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psycopg
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.ports import free_port
from leadsonar.testing.providerapi import Call, ProviderApi, Reply

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

LEADSONAR = str(Path(sys.executable).with_name("leadsonar"))
PATH = "/v1/person/email"
JOBS = 3
CONTACTS = 100
CONCURRENCY = 8
LATENCY = 0.25


def _answer(call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    email = f"{str(body.get('first')).lower()}.{str(body.get('last')).lower()}@{body.get('domain')}"
    return Reply({"email": email, "status": "valid"}, delay=LATENCY)


def _providers_toml(name: str, base_url: str, rate: str | None = None) -> str:
    return (
        f"[declarative_providers.{name}]\n"
        'fields = ["email"]\nmethod = "POST"\n'
        f'url = "{base_url}{PATH}"\napi_key = "stand-in-key"\n'
        'body = { first = "{first_name}", last = "{last_name}", domain = "{domain}" }\n'
        'email_path = "email"\nstatus_path = "status"\nstatuses = { valid = "high" }\n'
        "concurrency = 100\n" + (f'rate_limit = "{rate}"\n' if rate else "")
    )


def _environment(
    database_url: str, redis_url: str, dns: LoopbackDns, providers_file: Path, name: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSONAR_")}
    env.update(
        LEADSONAR_DATABASE_URL=database_url,
        LEADSONAR_RATE_LIMIT_STORAGE=redis_url,
        LEADSONAR_DNS_SERVERS=dns.address,
        LEADSONAR_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
        LEADSONAR_SMTP_HELO_NAME="probe.leadsonar.test",
        LEADSONAR_PROVIDERS=f"email={name};phone=",
        LEADSONAR_DECLARATIVE_PROVIDERS_FILE=str(providers_file),
        LEADSONAR_LOOKUP_CACHE_TTL="0",  # a contact asked twice must reach the provider twice
        LEADSONAR_JOB_CONCURRENCY=str(CONCURRENCY),
        LEADSONAR_JOB_POLL_INTERVAL="0.5",
        LEADSONAR_WORKER_HEARTBEAT="0.5",
        LEADSONAR_WORKER_STALL_TIMEOUT="3",
        LEADSONAR_WORKER_SHUTDOWN_TIMEOUT="5",
        LEADSONAR_RATE_LIMIT="1000/second",
        LEADSONAR_INITIAL_CREDITS="1000",
    )
    return env


async def _spawn(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            LEADSONAR, *args, env=env, stdout=handle, stderr=handle
        )
    finally:
        handle.close()


async def _serve(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    process = await _spawn(env, log, "serve", "--no-worker", "--port", str(port))
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                raise AssertionError(log.read_text())
            await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start:\n" + log.read_text())


async def _worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    process = await _spawn(env, log, "worker", "--concurrency", str(CONCURRENCY))
    for _ in range(600):
        if "working bulk-job items" in log.read_text():
            return process
        if process.returncode is not None:
            raise AssertionError(log.read_text())
        await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("worker did not start:\n" + log.read_text())


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_two_apis_and_workers_survive_a_killed_worker(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    name = f"paid{uuid.uuid4().hex[:8]}"
    processes: list[asyncio.subprocess.Process] = []
    logs = {what: tmp_path / f"{what}.log" for what in ("api1", "api2", "w1", "w2", "w3")}
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer)
        providers_file = tmp_path / "providers.toml"
        providers_file.write_text(_providers_toml(name, api.url), encoding="utf-8")
        with LoopbackDns() as dns:
            env = _environment(postgres_url, redis_url, dns, providers_file, name)
            try:
                ports = [free_port(), free_port()]
                processes.append(await _serve(env, ports[0], logs["api1"]))
                processes.append(await _serve(env, ports[1], logs["api2"]))
                keys = [
                    line
                    for line in logs["api1"].read_text().splitlines()
                    if line.startswith("ls_live_")
                ]
                assert len(keys) == 1, logs["api1"].read_text()
                assert "ls_live_" not in logs["api2"].read_text()  # one first account only
                first, second = await asyncio.gather(
                    _worker(env, logs["w1"]), _worker(env, logs["w2"])
                )
                processes += [first, second]
                headers = {"Authorization": f"Bearer {keys[0]}"}
                bases = [f"http://127.0.0.1:{port}/api/v1" for port in ports]
                jobs: list[tuple[str, str]] = []
                async with httpx.AsyncClient(headers=headers, timeout=30) as client:
                    for j in range(JOBS):
                        base = bases[j % 2]
                        accepted = await client.post(
                            f"{base}/enrich",
                            json={
                                "contacts": [
                                    {
                                        "firstName": f"P{j}x{i}",
                                        "lastName": "Lee",
                                        "website": f"company{i % 10}.test",
                                    }
                                    for i in range(CONTACTS)
                                ]
                            },
                        )
                        assert accepted.status_code == 202, accepted.text
                        jobs.append((base, accepted.json()["jobId"]))
                    await asyncio.sleep(2)
                    first.send_signal(signal.SIGKILL)
                    await first.wait()
                    processes.append(await _worker(env, logs["w3"]))
                    results = {}
                    for base, job_id in jobs:
                        for _ in range(1200):
                            body = (await client.get(f"{base}/enrich/{job_id}")).json()
                            if body["status"] != "processing":
                                break
                            await asyncio.sleep(0.1)
                        results[job_id] = body
                    # Either API answers for any job: they share the database.
                    other = (await client.get(f"{bases[1]}/enrich/{jobs[0][1]}")).json()
                    credits = (await client.get(f"{bases[1]}/credits")).json()
            finally:
                await asyncio.gather(*(_stop(p) for p in processes))

    for (_, job_id), j in zip(jobs, range(JOBS), strict=True):
        body = results[job_id]
        assert body["status"] == "completed", (body["status"], body["completed"])
        assert [r["email"] for r in body["results"]] == [
            f"p{j}x{i}.lee@company{i % 10}.test" for i in range(CONTACTS)
        ]
        assert all(r["confidence"] == "high" for r in body["results"])
    assert other == results[jobs[0][1]]
    assert credits == {"balance": 1000 - JOBS * CONTACTS, "totalEarned": 1000, "totalSpent": 300}
    asked = Counter(str(call.body["first"]) for call in api.calls)
    assert len(asked) == JOBS * CONTACTS  # every contact asked
    twice = sum(n - 1 for n in asked.values())
    # Only the killed worker's items in flight may have been asked again.
    assert sum(asked.values()) <= JOBS * CONTACTS + CONCURRENCY, (twice, dict(asked))
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin) as connection:
        charges = connection.execute(
            "SELECT count(*), sum(amount) FROM ledger_entries WHERE reason = 'enrich'"
        ).fetchone()
        refunds = connection.execute(
            "SELECT count(*) FROM ledger_entries WHERE reason LIKE 'refund%'"
        ).fetchone()
        done = connection.execute(
            "SELECT count(*), count(DISTINCT (job_id, position)) FROM enrichment_items "
            "WHERE status = 'done'"
        ).fetchone()
    assert charges == (JOBS, -JOBS * CONTACTS)
    assert refunds == (0,)
    assert done == (JOBS * CONTACTS, JOBS * CONTACTS)
    # The killed worker had items in flight: a survivor put them back on the queue.
    assert "stalled queue entry" in logs["w2"].read_text() + logs["w3"].read_text()


async def test_two_worker_processes_share_a_providers_rate_limit_through_redis(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Issue 10 §4: two worker processes (each its own limiter) against a provider limited to
    R/second: together they stay within R, counted where the provider counts (on arrival)."""
    rate, count = 4, 24
    name = f"paid{uuid.uuid4().hex[:8]}"
    processes: list[asyncio.subprocess.Process] = []
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer)
        providers_file = tmp_path / "providers.toml"
        providers_file.write_text(_providers_toml(name, api.url, f"{rate}/second"), "utf-8")
        with LoopbackDns() as dns:
            env = _environment(postgres_url, redis_url, dns, providers_file, name)
            try:
                port = free_port()
                log = tmp_path / "api.log"
                processes.append(await _serve(env, port, log))
                key = next(ln for ln in log.read_text().splitlines() if ln.startswith("ls_live_"))
                processes += await asyncio.gather(
                    _worker(env, tmp_path / "w1.log"), _worker(env, tmp_path / "w2.log")
                )
                base = f"http://127.0.0.1:{port}/api/v1"
                async with httpx.AsyncClient(
                    headers={"Authorization": f"Bearer {key}"}, timeout=30
                ) as client:
                    began = time.monotonic()
                    accepted = await client.post(
                        f"{base}/enrich",
                        json={
                            "contacts": [
                                {"firstName": f"R{i}", "lastName": "Lee", "website": "r.test"}
                                for i in range(count)
                            ]
                        },
                    )
                    assert accepted.status_code == 202, accepted.text
                    job_id = accepted.json()["jobId"]
                    for _ in range(600):
                        body = (await client.get(f"{base}/enrich/{job_id}")).json()
                        if body["status"] != "processing":
                            break
                        await asyncio.sleep(0.1)
                    took = time.monotonic() - began
            finally:
                await asyncio.gather(*(_stop(p) for p in processes))
    worked = [
        int(
            re.findall(r"stopped after working (\d+) items", (tmp_path / f"w{n}.log").read_text())[
                0
            ]
        )
        for n in (1, 2)
    ]
    assert body["status"] == "completed" and body["completed"] == count
    assert api.count("POST", PATH) == count
    assert all(n > 0 for n in worked), worked  # both workers sent requests
    # Counted on arrival, as the provider counts. The limiters grant at most R in any second
    # (plus a 0.1 s margin); on a CPU-starved machine a worker may send a granted burst a few
    # hundred ms late, bringing it closer to the next one, so the check uses 0.5 s windows:
    # limiters that did not share their counts would send both workers' R at the same moment.
    assert api.max_per_second(PATH, window=0.5) <= rate
    assert took >= count / rate - 1.5  # unshared, the two workers would take half as long
