"""API throughput against a bare FastAPI endpoint (issue 9 §7), on SQLite and PostgreSQL.

Closed-loop load from ``wrk`` (``apt-get install wrk``; an async httpx closed loop when wrk is
missing) with ``CONNECTIONS`` connections for ``SECONDS`` seconds per scenario, every server a
separate process with one uvicorn worker (uvloop, httptools, no access log):

- ``bare``: a FastAPI app whose ``POST /api/v1/find-email`` returns a fixed answer of the same
  shape (the ceiling for one Python worker on this machine);
- ``ceiling``: a FastAPI app that does only what the contract requires of every find-email,
  written plainly: authenticate the key (one indexed read) and commit one charge (the balance
  row's conditional ``UPDATE`` and a ledger entry, one transaction per request), then answer the
  same JSON (:data:`CEILING_APP`);
- ``imported``: find-email for imported contacts, a different one each request (every request a
  cache miss answered by the ``known`` provider; the domains do not exist in DNS, so the prober
  and the crawler answer from what they already know, without network);
- ``cached``: the same lookup again and again (answered from the lookup cache);
- the same two after ``LEDGER_ENTRIES`` more ledger entries on the account, inserted with one
  SQL statement (the balance row is kept in step, so ``ledger check`` still holds).

The scenarios are measured in ``ROUNDS`` interleaved rounds with every server up (bare,
framework, ceiling, imported, cached; then bare, imported and cached after the ledger history),
and each figure is the median over the rounds, each ratio the median of the ratios taken within
one round: on a shared machine the speed drifts by a third within minutes, so a ratio of
figures taken minutes apart would measure the drift. Every request of every round of
``imported`` asks for a contact no earlier request asked for.

Also the CLI: ``leadsonar enrich`` of ``ENRICH_ROWS`` rows whose domains do not exist in DNS
(answered without network), then the same file again (answered from the lookup cache), in rows
per second and rows per CPU second; ``--part cli`` runs only that (``--compare-src DIR`` also
runs another checkout's ``src`` first, under the same load). The loopback DNS stand-in sends the
zone's SOA with each NXDOMAIN, as real servers do (RFC 2308).

``./run bench throughput [--seconds N] [--rounds N] [--db sqlite|postgres|both]``; writes
``bench/results/throughput.json``. PostgreSQL: ``LEADSONAR_BENCH_POSTGRES`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; a fresh database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile, save
from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns

SECONDS = 10
ROUNDS = 3
CONNECTIONS = 16
THREADS = 2
CONTACTS = 60_000
DOMAINS = 50
LEDGER_ENTRIES = 1_000_000
ENRICH_ROWS = 5_000
POSTGRES = os.environ.get(
    "LEADSONAR_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
ANSWER = {answer!r}

@app.post("/api/v1/find-email")
async def find_email(body: dict) -> dict:
    return ANSWER
"""

# FastAPI as LeadSonar uses it, doing nothing: the product's request and response models, the
# two security schemes and an async dependency solved per request, four pure-ASGI middlewares
# passing the request through, the same JSON built as the response model. No database, no
# lookup: what the framework costs for this route's shape before any of our work.
FRAMEWORK_APP = """
from fastapi import Depends, FastAPI, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from leadsonar.lookup.schemas import EmailAnswer, PersonLookup

ANSWER = {answer!r}
bearer = HTTPBearer(auto_error=False)
api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


class PassThrough:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


async def services() -> dict:
    return {{}}


async def principal(_b=Security(bearer), _k=Security(api_key)) -> int:
    return 1


app = FastAPI()
for _ in range(4):
    app.add_middleware(PassThrough)


@app.get("/healthz")
async def healthz() -> dict:
    return {{"status": "ok"}}


@app.post("/api/v1/find-email", response_model=EmailAnswer)
async def find_email(
    body: PersonLookup, svc: dict = Depends(services), who: int = Depends(principal)
) -> EmailAnswer:
    return EmailAnswer(**ANSWER)
"""

# The least a find-email must do by the API's contract, written as plainly as FastAPI allows:
# authenticate the key (HMAC digest → one indexed read of api_keys) and commit its charge (the
# balance row's conditional UPDATE and one ledger entry, one transaction per request), then
# answer the same JSON. No lookup at all: the ceiling for any implementation of the contract on
# this machine, database and driver.
CEILING_APP = """
import asyncio, os
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from leadsonar.kit.crypto import hash_api_key

ANSWER = {answer!r}
URL = os.environ["LEADSONAR_DATABASE_URL"]
engine = create_async_engine(URL, pool_size=20, max_overflow=0)
sqlite = URL.startswith("sqlite")
write_lock = asyncio.Lock() if sqlite else None  # SQLite has one writer; queue here
app = FastAPI()
secret = None

KEY = text("SELECT account_id FROM api_keys WHERE key_hash = :d AND revoked_at IS NULL")
DEBIT = text(
    "UPDATE account_balances SET balance = balance - 1, total_spent = total_spent + 1 "
    "WHERE account_id = :a AND balance >= 1 RETURNING balance"
)
ENTRY = text(
    "INSERT INTO ledger_entries (account_id, amount, reason, reference) "
    "VALUES (:a, -1, 'find-email', NULL)"
)


async def charge(account: int) -> bool:
    async with engine.begin() as conn:
        if (await conn.execute(DEBIT, {{"a": account}})).first() is None:
            return False
        await conn.execute(ENTRY, {{"a": account}})
    return True


@app.get("/healthz")
async def healthz() -> dict:
    return {{"status": "ok"}}


@app.post("/api/v1/find-email")
async def find_email(request: Request, body: dict) -> JSONResponse:
    global secret
    if secret is None:
        async with engine.connect() as conn:
            value = (await conn.execute(text(
                "SELECT value FROM app_meta WHERE key = 'api_key_hmac_secret'"
            ))).scalar_one()
        secret = value.encode()
    header = request.headers.get("authorization", "")
    digest = hash_api_key(header.removeprefix("Bearer "), secret)
    async with engine.connect() as conn:
        account = (await conn.execute(KEY, {{"d": digest}})).scalar()
    if account is None:
        return JSONResponse({{"error": "Invalid or revoked API key."}}, status_code=401)
    if write_lock is not None:
        async with write_lock:
            ok = await charge(account)
    else:
        ok = await charge(account)
    if not ok:
        return JSONResponse({{"error": "Not enough credits."}}, status_code=402)
    return JSONResponse(ANSWER)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def person(i: int) -> tuple[str, str, str]:
    """The ``i``-th imported person: ``(first, last, domain)``."""
    return f"Pat{i}", f"Lee{i}", f"nowhere{i % DOMAINS}.test"


class Server:
    """A uvicorn process serving ``target`` (``module:attr``, a factory when ``factory``)."""

    def __init__(self, target: str, env: dict[str, str], cwd: Path, factory: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            PYTHON,
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--backlog",
            "4096",
        ]
        if factory:
            args.append("--factory")
        self.process = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    self.process.stderr.read().decode() if self.process.stderr else ""
                )
            try:
                httpx.get(f"{self.url}/healthz", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local n = {count}
local counter = {offset}
request = function()
  counter = counter + 1
  local i = counter % n
  {body}
  return wrk.format(nil, nil, nil, body)
end
"""


def wrk_script(tmp: Path, key: str, mode: str, offset: int) -> Path:
    if mode == "imported":
        body = (
            f"local d = i % {DOMAINS}\n  local body = string.format("
            '\'{"firstName":"Pat%d","lastName":"Lee%d","website":"nowhere%d.test"}\', '
            "i, i, d)"
        )
    else:
        body = 'local body = \'{"firstName":"Pat0","lastName":"Lee0","website":"nowhere0.test"}\''
    path = tmp / f"{mode}-{offset}.lua"
    path.write_text(LUA.format(key=key, count=CONTACTS, offset=offset, body=body))
    return path


def parse_wrk(output: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    figures = {"rps": rps}
    for q in ("50", "99"):
        match = re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)", output)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            figures[f"p{q}_ms"] = value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures


async def httpx_loop(
    url: str, key: str, mode: str, offset: int, seconds: float
) -> dict[str, float]:
    """The closed loop without wrk: ``CONNECTIONS`` clients each sending the next request as
    soon as the last is answered."""
    latencies: list[float] = []
    errors = 0
    counter = offset
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            nonlocal counter, errors
            while time.monotonic() < stop:
                counter += 1
                i = counter % CONTACTS if mode == "imported" else 0
                first, last, domain = person(i)
                began = time.perf_counter()
                response = await client.post(
                    "/api/v1/find-email",
                    json={"firstName": first, "lastName": last, "website": domain},
                )
                latencies.append(time.perf_counter() - began)
                errors += response.status_code != 200

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        elapsed = time.monotonic() - began
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "non_2xx": float(errors),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    url: str, key: str, mode: str, tmp: Path, seconds: float, offset: int = 0, pid: int = 0
) -> dict[str, float]:
    """Closed-loop load on ``url`` for ``seconds``; ``mode`` ``imported`` or ``cached``.

    With the server's ``pid``, also its CPU milliseconds per answered request: on a machine
    shared with other work, requests per second follow the CPU the server was given, CPU per
    request does not."""
    before = cpu_seconds(pid) if pid else 0.0
    figures = _load(url, key, mode, tmp, seconds, offset)
    if pid:
        requests = figures["rps"] * seconds
        figures["cpu_ms_per_request"] = round((cpu_seconds(pid) - before) * 1000 / requests, 3)
    return figures


def _load(
    url: str, key: str, mode: str, tmp: Path, seconds: float, offset: int
) -> dict[str, float]:
    if shutil.which("wrk"):
        script = wrk_script(tmp, key, mode, offset)
        out = subprocess.run(
            [
                "wrk",
                f"-t{THREADS}",
                f"-c{CONNECTIONS}",
                f"-d{int(seconds)}s",
                "--latency",
                "-s",
                str(script),
                f"{url}/api/v1/find-email",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return parse_wrk(out)
    return asyncio.run(httpx_loop(url, key, mode, offset, seconds))


async def prepare(settings: Settings) -> str:
    """Create the account (credits for every request), import the contacts; returns the key."""
    from leadsonar.accounts import service as accounts
    from leadsonar.domains.contacts import ImportReport, import_rows
    from leadsonar.kit.db import Database
    from leadsonar.kit.migrate import upgrade_to_head
    from leadsonar.ledger import service as ledger

    db = Database(settings.database_url)
    try:
        await upgrade_to_head(db.engine)
        async with db.write_session() as session:
            secret = await accounts.load_or_create_secret(session, None)
            account = await accounts.create_account(session, "bench")
            await ledger.grant(session, account.id, 100_000_000, "initial")
            key = await accounts.create_key(session, account, secret)
        rows = []
        for i in range(CONTACTS):
            first, last, domain = person(i)
            rows.append(
                (
                    i + 2,
                    {
                        "firstname": first,
                        "lastname": last,
                        "company": "",
                        "website": domain,
                        "email": f"{first.lower()}.{last.lower()}@{domain}",
                        "phone": "",
                    },
                )
            )
        for start in range(0, len(rows), 2000):
            async with db.write_session() as session:
                await import_rows(session, rows[start : start + 2000], ImportReport(), account.id)
        return key
    finally:
        await db.dispose()


async def add_ledger_history(settings: Settings, entries: int) -> float:
    """Append ``entries`` ledger entries (alternately -1 and +1) to the bench account with one
    ``INSERT … SELECT`` and keep its balance row in step; returns the seconds it took."""
    from sqlalchemy import text

    from leadsonar.kit.db import Database

    db = Database(settings.database_url)
    began = time.perf_counter()
    try:
        async with db.write_session() as session:
            account = (
                await session.execute(text("SELECT id FROM accounts WHERE name = 'bench'"))
            ).scalar_one()
            if db.sqlite:
                series = (
                    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
                    "SELECT :a, CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END, 'bench', NULL FROM s"
                )
            else:
                series = (
                    "SELECT :a, CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END, 'bench', NULL "
                    "FROM generate_series(1, :n) AS i"
                )
            await session.execute(
                text(
                    f"INSERT INTO ledger_entries (account_id, amount, reason, reference) {series}"
                ),
                {"a": account, "n": entries},
            )
            half = entries // 2
            await session.execute(
                text(
                    "UPDATE account_balances SET total_earned = total_earned + :up, "
                    "total_spent = total_spent + :down, balance = balance + :up - :down "
                    "WHERE account_id = :a"
                ),
                {"up": half, "down": entries - half, "a": account},
            )
        if not db.sqlite:
            async with db.engine.connect() as connection:
                await connection.execute(text("COMMIT"))
                await connection.execute(text("ANALYZE ledger_entries"))
    finally:
        await db.dispose()
    return time.perf_counter() - began


def enrich_rows_per_second(
    env: dict[str, str], tmp: Path, rows: int = ENRICH_ROWS
) -> dict[str, float]:
    """``leadsonar enrich`` of ``rows`` people at domains that do not exist in DNS, twice: the
    first pass learns that the domains are NXDOMAIN (each domain resolved once, the answer kept
    in the bounded resolver cache) and caches each row's not-found answer; the second pass of
    the same file is answered from the lookup cache. Rows per second of each pass, with the
    1-minute load average before each."""
    source = tmp / "enrich.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["firstName", "lastName", "website"])
        for i in range(rows):
            writer.writerow([f"Sam{i}", f"Ray{i}", f"void{i % DOMAINS}.test"])
    figures: dict[str, Any] = {"rows": rows}
    for name in ("rows_per_s", "cached_rows_per_s"):
        load_average = os.getloadavg()[0]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run(
            [
                str(Path(PYTHON).parent / "leadsonar"),
                "enrich",
                str(source),
                "-o",
                str(tmp / "out.csv"),
            ],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(
                f"enrich failed (exit {done.returncode}):\n{done.stderr[-3000:]}", file=sys.stderr
            )
            return {"rows": rows, "failed": done.returncode, "rows_per_s": 0.0}
        seconds = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        prefix = name.removesuffix("rows_per_s")
        figures[f"{prefix}seconds"] = round(seconds, 2)
        figures[name] = round(rows / seconds, 1)
        # CPU seconds of the process, start-up included: rows per CPU second is what one
        # unshared core would reach, whatever else the machine is running
        figures[f"{prefix}cpu_seconds"] = round(cpu, 2)
        figures[f"{prefix}rows_per_cpu_s"] = round(rows / cpu, 1)
        figures[f"{prefix}load_average_before"] = load_average
    return figures


def run_cli(
    kind: str, dns: LoopbackDns, rows: int, compare_src: Path | None = None
) -> dict[str, Any]:
    """Only the CLI part, on a fresh database of ``kind``; with ``compare_src`` (the ``src``
    folder of another checkout, e.g. ``git archive main``) that code runs too, first, on a
    database of its own, so the two are measured under the same load."""
    figures: dict[str, Any] = {}
    runs = [("enrich_cli_compared", compare_src)] if compare_src else []
    for name, src in [*runs, ("enrich_cli", None)]:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            pg_name = None
            if kind == "sqlite":
                url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
            else:
                url, pg_name = postgres_database()
            env = {
                **os.environ,
                "LEADSONAR_DATABASE_URL": url,
                "LEADSONAR_DNS_SERVERS": dns.address,
                "LEADSONAR_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
                "LEADSONAR_SMTP_HELO_NAME": "probe.leadsonar.test",
            }
            if src is not None:
                env["PYTHONPATH"] = str(src.resolve())
            try:
                figures[name] = enrich_rows_per_second(env, tmp, rows)
            finally:
                if pg_name:
                    drop_postgres(pg_name)
    return figures


def postgres_database() -> tuple[str, str]:
    import psycopg

    admin = POSTGRES.replace("postgresql+psycopg://", "postgresql://")
    name = f"leadsonar_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES.rpartition("/")
    return f"{base}/{name}", name


def drop_postgres(name: str) -> None:
    import psycopg

    admin = POSTGRES.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _summarise(rounds: list[dict[str, dict[str, float]]], name: str) -> dict[str, Any]:
    """One scenario over the rounds: the median of each figure, the per-round requests per
    second, and its median ratios to the bare endpoint (and to the ceiling app) measured in
    the same rounds."""
    rows = [r[name] for r in rounds]
    summary: dict[str, Any] = {
        key: round(_median([row[key] for row in rows]), 3)
        for key in rows[0]
        if all(key in row for row in rows)
    }
    summary["rounds_rps"] = [round(row["rps"], 1) for row in rows]
    for base in ("bare", "ceiling"):
        if name in ("bare", "framework", base) or base not in rounds[0]:
            continue
        suffix = "" if base == "bare" else "_ceiling"
        summary[f"ratio_to_{base}"] = round(
            _median([r[name]["rps"] / r[base]["rps"] for r in rounds]), 3
        )
        summary[f"cpu_ratio_to_{base}"] = round(
            _median(
                [r[base]["cpu_ms_per_request"] / r[name]["cpu_ms_per_request"] for r in rounds]
            ),
            3,
        )
        summary[f"rounds_ratio{suffix}"] = [
            round(r[name]["rps"] / r[base]["rps"], 3) for r in rounds
        ]
    return summary


def run_database(
    kind: str, dns: LoopbackDns, seconds: float, rounds: int = ROUNDS
) -> dict[str, Any]:
    """Every scenario on a fresh database of ``kind``, in ``rounds`` interleaved rounds.

    All the servers stay up; each round loads bare, framework, ceiling, imported and cached
    in turn (then, after the ledger history, bare, imported and cached again), so that every
    ratio compares figures taken seconds apart: on a shared machine the speed drifts by a
    third within minutes, and a ratio of figures taken minutes apart measures the drift. Each
    round of ``imported`` asks for contacts no earlier round asked for (a cache miss every
    request)."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pg_name = None
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        else:
            url, pg_name = postgres_database()
        env = {
            **os.environ,
            "LEADSONAR_DATABASE_URL": url,
            "LEADSONAR_DNS_SERVERS": dns.address,
            "LEADSONAR_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
            "LEADSONAR_RATE_LIMIT": "100000000/second",
            "LEADSONAR_SMTP_HELO_NAME": "probe.leadsonar.test",
        }
        fresh: list[dict[str, dict[str, float]]] = []
        later: list[dict[str, dict[str, float]]] = []
        others: dict[str, Server] = {}
        # each round's imported contacts: the first half of the list before the ledger
        # history, the second half after it
        share = CONTACTS // (2 * rounds)
        try:
            settings = Settings(database_url=url)
            key = asyncio.run(prepare(settings))
            product = Server("leadsonar.app:create_app", env, tmp, factory=True)
            try:
                product.wait()
                first, last, domain = person(0)
                answer = httpx.post(
                    f"{product.url}/api/v1/find-email",
                    json={"firstName": first, "lastName": last, "website": domain},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=60,
                ).json()
                apps = {"bare": BARE_APP, "framework": FRAMEWORK_APP, "ceiling": CEILING_APP}
                for name, source in apps.items():
                    (tmp / f"{name}_app.py").write_text(source.format(answer=answer))
                    others[name] = Server(
                        f"{name}_app:app", {**env, "PYTHONPATH": str(tmp)}, tmp, factory=False
                    )
                for server in others.values():
                    _wait_bare(server)
                pid = product.process.pid
                for r in range(rounds):
                    row = {
                        name: load(server.url, key, "cached", tmp, seconds, pid=server.process.pid)
                        for name, server in others.items()
                    }
                    row["imported"] = load(
                        product.url, key, "imported", tmp, seconds, offset=1 + r * share, pid=pid
                    )
                    row["cached"] = load(product.url, key, "cached", tmp, seconds, pid=pid)
                    fresh.append(row)
            finally:
                product.stop()
            history_seconds = round(asyncio.run(add_ledger_history(settings, LEDGER_ENTRIES)), 1)
            product = Server("leadsonar.app:create_app", env, tmp, factory=True)
            try:
                product.wait()
                pid = product.process.pid
                load(product.url, key, "cached", tmp, 2)  # warm the new process up
                bare = others["bare"]
                for r in range(rounds):
                    offset = CONTACTS // 2 + r * share
                    later.append(
                        {
                            "bare": load(
                                bare.url, key, "cached", tmp, seconds, pid=bare.process.pid
                            ),
                            "imported_1m": load(
                                product.url, key, "imported", tmp, seconds, offset=offset, pid=pid
                            ),
                            "cached_1m": load(product.url, key, "cached", tmp, seconds, pid=pid),
                        }
                    )
            finally:
                product.stop()
            for server in others.values():
                server.stop()
            others.clear()
            enrich = enrich_rows_per_second(env, tmp)
        finally:
            for server in others.values():
                server.stop()
            if pg_name:
                drop_postgres(pg_name)
    figures: dict[str, Any] = {
        name: _summarise(fresh, name)
        for name in ("bare", "framework", "ceiling", "imported", "cached")
    }
    figures["bare_1m"] = _summarise(later, "bare")
    for name in ("imported", "cached"):
        row = figures[f"{name}_1m"] = _summarise(later, f"{name}_1m")
        # against the fresh figure, each first divided by its own rounds' bare endpoint (the
        # machine's speed when it was measured)
        row["ratio_to_fresh"] = round(row["ratio_to_bare"] / figures[name]["ratio_to_bare"], 3)
        row["cpu_ratio_to_fresh"] = round(
            figures[name]["cpu_ms_per_request"] / row["cpu_ms_per_request"], 3
        )
    for name in ("imported", "imported_1m"):
        used = max(figures[name]["rounds_rps"]) * seconds
        if used > share:
            print(f"warning: {name} asked for {used:.0f} contacts a round, {share} are fresh")
    figures["rounds"] = rounds
    figures["ledger_history_insert_s"] = history_seconds
    figures["enrich_cli"] = enrich
    figures["answer"] = answer
    return figures


def _wait_bare(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{server.url}/api/v1/find-email", json={}, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("bare server did not start")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench throughput")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds")
    parser.add_argument(
        "--part",
        choices=["all", "cli"],
        default="all",
        help="cli: only the `leadsonar enrich` figures (no API servers, no ledger history)",
    )
    parser.add_argument("--rows", type=int, default=ENRICH_ROWS, help="rows of the CLI part")
    parser.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="with --part cli: also run the CLI of this src folder (another checkout), first",
    )
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: dict[str, Any] = {
        "tool": "wrk" if shutil.which("wrk") else "httpx closed loop",
        "connections": CONNECTIONS,
        "seconds": args.seconds,
        "contacts": CONTACTS,
        "ledger_entries": LEDGER_ENTRIES,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg()[0],
    }
    with LoopbackDns(negative_ttl=60) as dns:
        for kind in kinds:
            if args.part == "cli":
                results[kind] = run_cli(kind, dns, args.rows, args.compare_src)
                if "enrich_cli_compared" in results[kind]:
                    was = results[kind]["enrich_cli_compared"]
                    print(
                        f"{kind}: compared ({args.compare_src}): {was.get('rows_per_s')} rows/s "
                        f"({was.get('rows_per_cpu_s')} per CPU s) NXDOMAIN, "
                        f"{was.get('cached_rows_per_s')} rows/s "
                        f"({was.get('cached_rows_per_cpu_s')} per CPU s) cached"
                    )
                cli = results[kind]["enrich_cli"]
                print(
                    f"{kind}: enrich CLI {cli['rows']} rows: {cli['rows_per_s']} rows/s "
                    f"({cli.get('rows_per_cpu_s')} per CPU s) NXDOMAIN, "
                    f"{cli.get('cached_rows_per_s')} rows/s "
                    f"({cli.get('cached_rows_per_cpu_s')} per CPU s) cached; "
                    f"load {cli.get('load_average_before')}"
                )
                continue
            results[kind] = run_database(kind, dns, args.seconds, args.rounds)
            figures = results[kind]
            print(f"{kind}:")
            for name in (
                "bare",
                "framework",
                "ceiling",
                "imported",
                "cached",
                "bare_1m",
                "imported_1m",
                "cached_1m",
            ):
                row = figures[name]
                ratios = (
                    "ratio_to_bare",
                    "cpu_ratio_to_bare",
                    "ratio_to_ceiling",
                    "ratio_to_fresh",
                    "cpu_ratio_to_fresh",
                    "rounds_ratio",
                )
                extra = "".join(f"  {k}={row[k]}" for k in ratios if k in row)
                print(
                    f"  {name:12} {row['rps']:8.1f} req/s  p50 {row.get('p50_ms', 0):7.2f} ms"
                    f"  p99 {row.get('p99_ms', 0):7.2f} ms  cpu {row['cpu_ms_per_request']} ms/req"
                    f"  non-2xx {int(row['non_2xx'])}{extra}"
                )
            cli = figures["enrich_cli"]
            print(
                f"  enrich CLI   {cli['rows_per_s']} rows/s (NXDOMAIN), "
                f"{cli.get('cached_rows_per_s')} rows/s (cached)"
            )
    path = save("throughput_cli" if args.part == "cli" else "throughput", results)
    print(f"saved {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
