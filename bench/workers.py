"""Queue workers scale out (issue 10 §7): bulk-job throughput with 1, 2 and 4 ``leadsonar worker``
processes on PostgreSQL, and against a rate-limited provider.

Real processes, as deployed: one ``leadsonar serve --no-worker`` takes the jobs, N
``leadsonar worker --concurrency C`` processes work them; PostgreSQL and Redis are the local
services (``LEADSONAR_TEST_POSTGRES_URL``, ``LEADSONAR_TEST_REDIS_URL``, as the tests use; each
run gets a fresh database, dropped afterwards). The paid provider is a stand-in on loopback that
answers after ``LATENCY`` seconds, defined by configuration (a declarative provider).

1. **Calibration** (unless ``--concurrency`` is given): one worker works ``CALIBRATION``
   contacts; the CPU every process spends per contact (workers, API, PostgreSQL's backends for
   the run's database, this process's provider stand-in) gives how many slots per worker the
   machine can feed at 4 workers: the 4-worker run asks for ``4 × C / LATENCY`` contacts per
   second, which costs ``4 × C / LATENCY × cpu`` cores; ``C`` is the largest value (≤ 8) for
   which that stays within ``HEADROOM`` of the cores this machine has free (its cores minus its
   load average before the run, at least a quarter of them). A provider-bound benchmark must not
   be CPU-bound, or it measures the machine, not the workers.
2. **Scaling**: ``CONTACTS`` contacts (jobs of 100, the API's per-request maximum) with no
   provider rate limit; workers 1 → 2 → 4 at the same concurrency each. Throughput is contacts
   answered per second from the first submission to the last result written.
3. **Rate-limited**: 2 workers, the provider limited to R/second (``--rate``, default 10; shared
   by the workers through Redis), 30 × R contacts, with enough slots for 1.5 × R × (seconds per
   item, as the earlier runs measured it) answers in flight; throughput against the limit, and
   the most calls the provider saw in any second.

Options: ``--concurrency C`` (skip the calibration), ``--contacts N``, ``--workers 1,2,4``,
``--rate R``, ``--no-rate`` / ``--no-scaling``, ``--py-spy DIR`` (record each worker with py-spy,
raw stacks, for finding where a worker's CPU goes).
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
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
PY_SPY = str(Path(sys.executable).with_name("py-spy"))
PATH = "/v1/person/email"

JOB_SIZE = 100
LATENCY = 0.2
CALIBRATION = 300  # contacts of the calibration run (1 worker)
CALIBRATION_CONCURRENCY = 4
HEADROOM = 0.6  # share of the free cores the 4-worker run may need
MAX_CONCURRENCY = 8


@dataclass
class Options:
    """What one ``./run bench workers`` run does (see the module docstring)."""

    contacts: int = 2000
    workers: tuple[int, ...] = (1, 2, 4)
    concurrency: int | None = None
    rate: int = 10
    rate_contacts: int = 300
    rate_workers: int = 2
    scaling: bool = True
    limited: bool = True
    profile: Path | None = None
    notes: list[str] = field(default_factory=list)


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


def _backends_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL server processes serving ``database`` (their
    command line names it; Linux /proc, readable when the server runs on this machine)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"postgres:") and f" {database} ".encode() in command:
            total += _cpu_seconds(int(proc.name))
    return total


class CpuMeter:
    """CPU seconds spent by each part of one run since :meth:`start`."""

    def __init__(self, api: int, workers: list[int], database: str) -> None:
        self.api, self.workers, self.database = api, workers, database
        self._start: dict[str, float] = {}

    def read(self) -> dict[str, float]:
        return {
            "workers": sum(_cpu_seconds(pid) for pid in self.workers),
            "api": _cpu_seconds(self.api),
            "postgres": _backends_cpu(self.database),
            "standIn": time.process_time(),  # this process: the provider stand-in, polling
        }

    def start(self) -> None:
        self._start = self.read()

    def since(self) -> dict[str, float]:
        now = self.read()
        return {part: now[part] - self._start.get(part, 0.0) for part in now}


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_once(
    workers: int,
    concurrency: int,
    contacts: int,
    rate: int | None,
    tmp: Path,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One topology: 1 API process, ``workers`` worker processes of ``concurrency`` slots,
    ``contacts`` contacts; the figures of the run (throughput, CPU per contact by part)."""
    name = f"paid{uuid.uuid4().hex[:8]}"
    processes: list[asyncio.subprocess.Process] = []
    spies: list[asyncio.subprocess.Process] = []
    load_before = os.getloadavg()[0]
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
                logs_of = [logs]
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
                            env, log, "worker", "--concurrency", str(concurrency)
                        )
                        processes.append(process)
                        logs_of.append(log)

                        async def ready(log: Path = log) -> bool:
                            return "working bulk-job items" in log.read_text()

                        await _until(ready, process, log)
                        if profile is not None:
                            profile.mkdir(parents=True, exist_ok=True)
                            out = profile / f"w{workers}x{concurrency}-{index}.txt"
                            spies.append(
                                await asyncio.create_subprocess_exec(
                                    PY_SPY,
                                    "record",
                                    "--pid",
                                    str(process.pid),
                                    "--format",
                                    "raw",
                                    "--rate",
                                    "50",
                                    "--output",
                                    str(out),
                                    "--nonblocking",
                                    stdout=asyncio.subprocess.DEVNULL,
                                    stderr=asyncio.subprocess.DEVNULL,
                                )
                            )
                    meter = CpuMeter(api_process.pid, [p.pid for p in processes[1:]], database.name)
                    headers = {"Authorization": f"Bearer {key}"}
                    meter.start()
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
                        for process, log in zip(processes, logs_of, strict=True):
                            if process.returncode is not None:
                                raise RuntimeError(f"{log.name} exited:\n{log.read_text()}")
                        await asyncio.sleep(0.25)
                    took = time.monotonic() - began
                    cpu = meter.since()
                    right = await asyncio.to_thread(database.right)
            finally:
                for spy in spies:
                    if spy.returncode is None:
                        spy.send_signal(signal.SIGINT)
                await asyncio.gather(*(spy.wait() for spy in spies))
                await asyncio.gather(*(_stop(p) for p in processes))
    per_contact = {part: round(1000 * seconds / max(done, 1), 1) for part, seconds in cpu.items()}
    return {
        "workers": workers,
        "concurrencyPerWorker": concurrency,
        "contacts": contacts,
        "answeredRight": right,
        "providerCalls": api.count("POST", PATH),
        "seconds": round(took, 2),
        "contactsPerSecond": round(done / took, 1),
        "idealContactsPerSecond": round(workers * concurrency / LATENCY, 1),
        "providerMaxPerSecond": api.max_per_second(PATH),
        "cpuMsPerContact": per_contact,
        "cpuMsPerContactTotal": round(sum(per_contact.values()), 1),
        "coresBusy": round(sum(cpu.values()) / took, 2),
        "loadAverageBefore": round(load_before, 1),
        "loadAverage": round(os.getloadavg()[0], 1),
    }


def choose_concurrency(
    calibration: dict[str, Any], cores: int, load: float, top: int
) -> tuple[int, str]:
    """Slots per worker for the scaling runs, and why (see the module docstring).

    Args:
        calibration: figures of a 1-worker run (its ``cpuMsPerContactTotal``).
        cores: the machine's cores; load: its load average before the run (other work).
        top: the most workers the scaling runs start.
    """
    cpu = calibration["cpuMsPerContactTotal"] / 1000
    free = max(cores / 4, cores - load)
    budget = HEADROOM * free
    fits = int(budget * LATENCY / (top * max(cpu, 1e-6)))
    chosen = max(1, min(MAX_CONCURRENCY, fits))
    why = (
        f"{calibration['cpuMsPerContactTotal']} ms of CPU per contact (all processes) on "
        f"{cores} cores with load {load:.1f} before the run: {top} workers x C slots at "
        f"{LATENCY * 1000:.0f} ms ask for {top}*C/{LATENCY} contacts/s, i.e. "
        f"{top / LATENCY * cpu:.2f}*C cores; C = {chosen} keeps that within {HEADROOM:.0%} of "
        f"the {free:.1f} free cores"
    )
    return chosen, why


def cpu_note(figures: dict[str, Any], cores: int) -> str:
    """What the CPU per contact means on this machine: the most contacts per second its cores
    can answer, whatever the provider's pace."""
    total = figures["cpuMsPerContactTotal"]
    parts = ", ".join(f"{k} {v}" for k, v in figures["cpuMsPerContact"].items())
    ceiling = cores * 1000 / total if total else float("inf")
    return (
        f"CPU-bound note: {total} ms of CPU per contact ({parts}) on {cores} cores: at most "
        f"{ceiling:.0f} contacts/s here if nothing else ran, i.e. provider-bound up to about "
        f"{ceiling * LATENCY:.0f} slots in total at {LATENCY * 1000:.0f} ms per answer"
    )


async def run(options: Options) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    figures: dict[str, Any] = {"latencySeconds": LATENCY, "cpus": cores}
    with tempfile.TemporaryDirectory() as tmp:
        concurrency = options.concurrency
        if concurrency is None:
            load = os.getloadavg()[0]
            calibration = await run_once(
                1, CALIBRATION_CONCURRENCY, CALIBRATION, None, Path(tmp), options.profile
            )
            concurrency, why = choose_concurrency(calibration, cores, load, max(options.workers))
            figures["calibration"] = calibration
            figures["concurrencyChosen"] = concurrency
            figures["concurrencyWhy"] = why
            print(f"calibration: {why}", flush=True)
            print(cpu_note(calibration, cores), flush=True)
        else:
            figures["concurrencyChosen"] = concurrency
            figures["concurrencyWhy"] = "given with --concurrency"
        if options.scaling:
            scaling = []
            for workers in options.workers:
                once = await run_once(
                    workers, concurrency, options.contacts, None, Path(tmp), options.profile
                )
                scaling.append(once)
                print(
                    f"{workers} worker(s) x {concurrency}: {once['contactsPerSecond']} contacts/s "
                    f"(ideal {once['idealContactsPerSecond']}; {once['seconds']} s, "
                    f"{once['answeredRight']}/{options.contacts} right, "
                    f"{once['providerCalls']} provider calls, "
                    f"{once['cpuMsPerContactTotal']} ms CPU/contact, "
                    f"{once['coresBusy']} cores busy, load {once['loadAverage']})",
                    flush=True,
                )
            base = scaling[0]["contactsPerSecond"]
            for once in scaling:
                once["speedup"] = round(once["contactsPerSecond"] / base, 2)
            figures["scaling"] = scaling
            figures[f"speedupAt{scaling[-1]['workers']}"] = scaling[-1]["speedup"]
            print(cpu_note(scaling[-1], cores), flush=True)
        if options.limited:
            # Enough slots that the limit, not the slots, bounds the run: half again the
            # R x (seconds per item) answers in flight that R/second needs, seconds per item
            # as measured so far (Little's law: slots / throughput; on a busy machine an item
            # takes longer than the provider's latency).
            measured = [figures.get("calibration"), *figures.get("scaling", [])]
            per_item = max(
                [LATENCY]
                + [
                    once["workers"] * once["concurrencyPerWorker"] / once["contactsPerSecond"]
                    for once in measured
                    if once and once["contactsPerSecond"]
                ]
            )
            rate_concurrency = max(
                concurrency, math.ceil(1.5 * options.rate * per_item / options.rate_workers)
            )
            limited = await run_once(
                options.rate_workers,
                rate_concurrency,
                options.rate_contacts,
                options.rate,
                Path(tmp),
                options.profile,
            )
            limited["rateLimit"] = options.rate
            limited["ofLimit"] = round(limited["contactsPerSecond"] / options.rate, 3)
            figures["rateLimited"] = limited
            print(
                f"rate-limited to {options.rate}/s, {options.rate_workers} workers x "
                f"{rate_concurrency}: {limited['contactsPerSecond']} contacts/s = "
                f"{limited['ofLimit']} x the limit; provider saw at most "
                f"{limited['providerMaxPerSecond']} in any second",
                flush=True,
            )
    return figures


def parse(argv: list[str]) -> Options:
    """``--concurrency C --contacts N --workers 1,2,4 --rate R --no-rate --no-scaling
    --py-spy DIR``."""
    options = Options()

    def value(flag: str) -> str | None:
        return argv[argv.index(flag) + 1] if flag in argv else None

    if (given := value("--concurrency")) is not None:
        options.concurrency = int(given)
    if (given := value("--contacts")) is not None:
        options.contacts = int(given)
    if (given := value("--workers")) is not None:
        options.workers = tuple(int(n) for n in given.split(","))
    if (given := value("--rate")) is not None:
        options.rate = int(given)
        options.rate_contacts = 30 * options.rate
    if (given := value("--py-spy")) is not None:
        options.profile = Path(given)
    options.limited = "--no-rate" not in argv
    options.scaling = "--no-scaling" not in argv
    return options


def main(argv: list[str]) -> None:
    options = parse(argv)
    figures = asyncio.run(run(options))
    path = save("workers", figures)
    top = f"speedupAt{max(options.workers)}"
    if top in figures:
        print(f"speedup at {max(options.workers)} workers: {figures[top]}x; saved {path}")
    else:
        print(f"saved {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
