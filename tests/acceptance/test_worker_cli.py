"""``leadsonar worker`` as a process: it refuses SQLite with a clear sentence, and on PostgreSQL
it registers with the queue, stops cleanly on SIGTERM and unregisters."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

LEADSONAR = str(Path(sys.executable).with_name("leadsonar"))


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSONAR_")}
    env.update(
        LEADSONAR_DATABASE_URL=database_url,
        LEADSONAR_DNS_SERVERS="127.0.0.1:9",  # never asked: nothing is looked up
        LEADSONAR_SMTP_HELO_NAME="probe.leadsonar.test",
        LEADSONAR_WORKER_HEARTBEAT="0.5",
    )
    return env


def test_worker_refuses_sqlite(tmp_path: Path) -> None:
    done = subprocess.run(
        [LEADSONAR, "worker"],
        env=_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "`leadsonar worker` needs PostgreSQL" in done.stderr
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


def test_serve_help_offers_no_worker() -> None:
    done = subprocess.run(
        [LEADSONAR, "serve", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert "--no-worker" in done.stdout


@pytest.mark.asyncio
@pytest.mark.postgres
async def test_worker_stops_cleanly_on_sigterm(postgres_url: str, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with log.open("wb") as handle:
        process = await asyncio.create_subprocess_exec(
            LEADSONAR,
            "worker",
            "--concurrency",
            "3",
            env=_env(postgres_url),
            stdout=handle,
            stderr=handle,
        )
    try:
        for _ in range(600):
            if "working bulk-job items, 3 at once" in log.read_text():
                break
            assert process.returncode is None, log.read_text()
            await asyncio.sleep(0.1)
        admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
        # The line is printed as the worker task starts; procrastinate registers it a moment
        # later (CI once read the table in between): wait for the row, up to 30 s.
        registered = None
        for _ in range(300):
            with psycopg.connect(admin) as connection:
                registered = connection.execute(
                    "SELECT count(*) FROM procrastinate_workers"
                ).fetchone()
            if registered == (1,):
                break
            assert process.returncode is None, log.read_text()
            await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    with psycopg.connect(admin) as connection:
        left = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    assert registered == (1,), log.read_text()
    assert code == 0, log.read_text()
    assert left == (0,)
