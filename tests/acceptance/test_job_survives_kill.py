"""A bulk job survives the server being killed (DESIGN.md §5): ``leadsonar serve`` runs as a
process, a job with slow lookups is submitted, the server gets SIGKILL mid-job and is started
again, and the job completes with every contact answered once and charged once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.ports import free_port
from leadsonar.testing.smtpserver import SmtpWorld

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

CONTACTS = 8
LEADSONAR = str(Path(sys.executable).with_name("leadsonar"))


def _environment(db_path: Path, dns: LoopbackDns, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSONAR_")}
    env.update(
        LEADSONAR_DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        LEADSONAR_DNS_SERVERS=dns.address,
        LEADSONAR_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
        LEADSONAR_SMTP_PORT=str(smtp_port),
        LEADSONAR_SMTP_HELO_NAME="probe.leadsonar.test",
        LEADSONAR_SMTP_TIMEOUT="5",
        LEADSONAR_JOB_CONCURRENCY="2",
        LEADSONAR_JOB_POLL_INTERVAL="0.2",
        LEADSONAR_PROVIDERS="email=smtp;phone=known",
        LEADSONAR_RATE_LIMIT="1000/second",
    )
    return env


async def _start(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    process = await asyncio.create_subprocess_exec(
        LEADSONAR, "serve", "--port", str(port), env=env, stdout=handle, stderr=handle
    )
    handle.close()
    async with httpx.AsyncClient() as client:
        for _ in range(200):
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


def _first_key(log: Path) -> str:
    keys = [line for line in log.read_text().splitlines() if line.startswith("ls_live_")]
    assert len(keys) == 1, log.read_text()
    return keys[0]


async def test_killed_server_resumes_the_job_and_charges_once(tmp_path: Path) -> None:
    db_path = tmp_path / "kill.db"
    log = tmp_path / "server.log"
    port = free_port()
    people = [(f"Person{i}", f"Tester{i}") for i in range(CONTACTS)]
    mailboxes = {f"person{i}.tester{i}@slow.test" for i in range(CONTACTS)}
    with LoopbackDns() as dns:
        dns.add_mx("slow.test", [(10, "mx.slow.test")])
        dns.add_a("mx.slow.test", "127.0.0.2")
        async with SmtpWorld() as world:
            smtp = await world.serve("127.0.0.2", mailboxes=mailboxes, rcpt_delay=0.4)
            env = _environment(db_path, dns, world.port)
            server = await _start(env, port, log)
            try:
                key = _first_key(log)
                headers = {"Authorization": f"Bearer {key}"}
                base = f"http://127.0.0.1:{port}/api/v1"
                async with httpx.AsyncClient(headers=headers, timeout=30) as client:
                    accepted = await client.post(
                        f"{base}/enrich",
                        json={
                            "contacts": [
                                {"firstName": f, "lastName": last, "website": "slow.test"}
                                for f, last in people
                            ]
                        },
                    )
                    assert accepted.status_code == 202, accepted.text
                    job_id = accepted.json()["jobId"]
                    for _ in range(300):
                        progress = (await client.get(f"{base}/enrich/{job_id}")).json()
                        if progress["completed"] >= 2:
                            break
                        await asyncio.sleep(0.05)
                    assert 2 <= progress["completed"] < CONTACTS, progress
                server.send_signal(signal.SIGKILL)
                await server.wait()
                finished_before_kill = progress["completed"]

                server = await _start(env, port, log)
                async with httpx.AsyncClient(headers=headers, timeout=30) as client:
                    for _ in range(600):
                        done = (await client.get(f"{base}/enrich/{job_id}")).json()
                        if done["status"] != "processing":
                            break
                        await asyncio.sleep(0.1)
                    credits = (await client.get(f"{base}/credits")).json()
            finally:
                if server.returncode is None:
                    server.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(server.wait(), 15)
                    except TimeoutError:
                        server.kill()
                        await server.wait()
            assert smtp.rcpt_count >= CONTACTS

    assert done["status"] == "completed", done
    assert done["completed"] == CONTACTS
    emails = [r["email"] for r in done["results"]]
    assert emails == [f"{f.lower()}.{last.lower()}@slow.test" for f, last in people]
    assert all(r["confidence"] == "high" for r in done["results"])
    assert finished_before_kill < CONTACTS
    # Charged once: the job's reservation and nothing else; the balance still adds up.
    assert credits == {"balance": 1000 - CONTACTS, "totalEarned": 1000, "totalSpent": CONTACTS}
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT amount, reason FROM ledger_entries WHERE reference = :job"),
            {"job": job_id},
        ).all()
        items = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT position) FROM enrichment_items "
                "WHERE job_id = :job AND status = 'done'"
            ),
            {"job": job_id},
        ).one()
    engine.dispose()
    assert rows == [(-CONTACTS, "enrich")]
    assert tuple(items) == (CONTACTS, CONTACTS)
