"""The ``leadsonar`` command line (Typer).

Names are a contract (other tools call them): ``serve``, ``worker``, ``accounts create``,
``keys create``, ``keys revoke``, ``credits grant``, ``ledger check``, ``import``, ``find-email``,
``company``, ``enrich``.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from leadsonar.accounts import repository as accounts_repository
from leadsonar.accounts import service as accounts
from leadsonar.assembly import close_services, open_services
from leadsonar.config import Settings, describe_settings, get_settings
from leadsonar.domains.companies import import_companies
from leadsonar.domains.contacts import (
    ImportReport,
    csv_kind,
    import_rows,
    read_companies_csv,
    read_contacts_csv,
)
from leadsonar.enrichment.files import read_path
from leadsonar.exceptions import LeadSonarError, NotFound
from leadsonar.kit.db import is_sqlite
from leadsonar.kit.phones import display_from_e164
from leadsonar.ledger import service as ledger
from leadsonar.lookup.service import answer_reason
from leadsonar.services import Services
from leadsonar.waterfall.cache import LookupCacheStore
from leadsonar.webhooks.service import secret_for as webhook_secret_for

app = typer.Typer(
    help="LeadSonar: self-hosted waterfall contact enrichment (work emails, direct phones).",
    no_args_is_help=True,
    add_completion=False,
)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
credits_app = typer.Typer(help="Credits.", no_args_is_help=True)
ledger_app = typer.Typer(help="The credit ledger.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(credits_app, name="credits")
app.add_typer(ledger_app, name="ledger")
webhooks_app = typer.Typer(help="Webhooks.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")

# User text (account names, CSV cells) is printed as is: never read as Rich markup.
console = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)
T = TypeVar("T")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", envvar="LEADSONAR_DATABASE_URL", help="SQLAlchemy async URL."),
]
AccountOption = Annotated[
    str,
    typer.Option(
        "--account", help="The account whose imported contacts the command uses (tenant data)."
    ),
]


async def _account_id(services: Services, name: str) -> int | None:
    """The id of the account named ``name``, or ``None`` when there is none."""
    async with services.db.read_session() as session:
        try:
            return (await accounts.get_account_by_name(session, name)).id
        except LeadSonarError:
            return None


def _settings(database_url: str | None) -> Settings:
    overrides: dict[str, Any] = {}
    if database_url:
        overrides["database_url"] = database_url
    try:
        return get_settings(**overrides)
    except ValueError as exc:
        err.print(f"Invalid settings: {exc}", style="red")
        raise typer.Exit(2) from None


def _run(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    async def main() -> T:
        services = await open_services(settings, start_runner=False)
        try:
            return await work(services)
        finally:
            await close_services(services)

    try:
        return asyncio.run(main())
    except LeadSonarError as exc:
        err.print(f"Error: {exc.message}", style="red")
        raise typer.Exit(1) from None


async def ensure_first_account(services: Services) -> str | None:
    """On first start (no accounts), create ``default`` with the initial credits.

    Returns:
        The new API key (shown once), or ``None`` when accounts already exist.
    """
    async with services.db.write_session() as session:
        if not services.db.sqlite:  # API processes starting together: one creates it
            await accounts_repository.lock_first_account(session)
        if await accounts.count_accounts(session):
            return None
        account = await accounts.create_account(session, "default")
        await ledger.grant(session, account.id, services.settings.initial_credits, "initial")
        return await accounts.create_key(session, account, services.secret)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(envvar="LEADSONAR_HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(envvar="LEADSONAR_PORT", min=1, max=65535, help="Port to listen on."),
    ] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also work bulk-job items in this process (the default). --no-worker serves "
            "the API only and leaves items to `leadsonar worker` processes (PostgreSQL).",
        ),
    ] = True,
    database_url: DatabaseOption = None,
) -> None:
    """Start the API server (migrations applied; first start creates an account and prints its
    key once). On SQLite it also runs the embedded job runner (one server per database file);
    on PostgreSQL a queue worker, unless --no-worker."""
    import uvicorn

    from leadsonar.app import create_app
    from leadsonar.kit.http_edge import configure_logging, uvicorn_log_config

    settings = _settings(database_url)
    if not worker and is_sqlite(settings.database_url):
        err.print(
            "Warning: --no-worker on SQLite: bulk jobs wait until a `leadsonar serve` with its "
            "runner works them (`leadsonar worker` needs PostgreSQL).",
            style="yellow",
        )
    key = _run(settings, ensure_first_account)
    if key:
        console.print(
            f"First start: created account 'default' with {settings.initial_credits} credits.\n"
            "Its API key (shown only this once, keep it):"
        )
        print(key, flush=True)
    if settings.smtp_helo_name.endswith((".localhost", ".local", ".invalid")):
        err.print(
            f"Warning: the prober introduces itself as {settings.smtp_helo_name!r}, which is not a "
            "name on the internet; mail servers may refuse or blocklist it. Set "
            "LEADSONAR_SMTP_HELO_NAME to a name you control (see docs/prober.md).",
            style="yellow",
        )
    console.print(f"LeadSonar listening on http://{host}:{port}  (API docs: /docs)")
    # One access line per request comes from leadsonar.access (redacted, with a request id);
    # uvicorn's own access log, which writes the raw URL, stays off.
    configure_logging(settings.log_format)
    uvicorn.run(
        create_app(settings, work_jobs=worker),
        host=host,
        port=port,
        log_level="info",
        log_config=uvicorn_log_config(),
        access_log=False,
        # Idle connections outlive clients' and proxies' own idle expiry (httpx 5 s, AWS ALB
        # 60 s): otherwise the server may close one just as it is reused (a reset request).
        timeout_keep_alive=75,
    )


@app.command("worker")
def worker_command(
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=256,
            help="Items worked at once (one per slot); default LEADSONAR_JOB_CONCURRENCY.",
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Work bulk-job items from the PostgreSQL queue until SIGTERM or Ctrl-C (then items in
    flight finish, up to LEADSONAR_WORKER_SHUTDOWN_TIMEOUT seconds). Run as many as you like,
    on as many machines, beside `leadsonar serve --no-worker` API processes."""
    settings = _settings(database_url)
    if is_sqlite(settings.database_url):
        err.print(
            "Error: `leadsonar worker` needs PostgreSQL (LEADSONAR_DATABASE_URL=postgresql+psycopg"
            "://…). On SQLite, `leadsonar serve` works bulk jobs itself.",
            style="red",
        )
        raise typer.Exit(2)
    if concurrency is not None:
        settings = settings.model_copy(update={"job_concurrency": concurrency})
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # procrastinate logs two INFO lines per queue entry (started, ended): per item, that is
    # noise and CPU at thousands of items a minute; its warnings and errors still show.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        services = await open_services(settings, pre_ping=False)
        runner = services.runner
        console.print(
            f"LeadSonar worker {getattr(runner, 'name', '')} working bulk-job items, "
            f"{settings.job_concurrency} at once.",
            soft_wrap=True,
        )
        try:
            waiting = asyncio.ensure_future(runner.wait())  # type: ignore[union-attr]
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if waiting.done() and waiting.exception() is not None:
                raise waiting.exception()  # type: ignore[misc]
        finally:
            await close_services(services)
            console.print(
                f"LeadSonar worker {getattr(runner, 'name', '')} stopped after working "
                f"{getattr(runner, 'worked', 0)} items.",
                soft_wrap=True,
            )

    # The event loop `serve` runs on (uvicorn picks uvloop when it is installed, as it is with
    # uvicorn[standard]): a worker spends much of its CPU in the loop, between round trips.
    with asyncio.Runner(loop_factory=_loop_factory()) as loop:
        loop.run(main())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed, else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@accounts_app.command("create")
def accounts_create(
    name: str,
    credits: Annotated[int, typer.Option(min=0, help="Credits to grant at creation.")] = 0,
    database_url: DatabaseOption = None,
) -> None:
    """Create an account and its first API key (printed as the last line)."""

    async def work(services: Services) -> str:
        async with services.db.write_session() as session:
            account = await accounts.create_account(session, name)
            if credits > 0:
                await ledger.grant(session, account.id, credits, "initial")
            return await accounts.create_key(session, account, services.secret)

    key = _run(_settings(database_url), work)
    console.print(f"Created account {name!r} with {credits} credits. API key:")
    print(key, flush=True)


@accounts_app.command("list")
def accounts_list(database_url: DatabaseOption = None) -> None:
    """List accounts with their balance and the display prefixes of their active keys."""

    async def work(services: Services) -> list[tuple[str, int, list[str]]]:
        async with services.db.session() as session:
            return await accounts.list_accounts(session)

    for name, balance, prefixes in _run(_settings(database_url), work):
        keys = ", ".join(prefixes) or "no active key"
        console.print(f"{name}  balance {balance}  keys: {keys}", soft_wrap=True)


@keys_app.command("create")
def keys_create(account: str, database_url: DatabaseOption = None) -> None:
    """Create another API key for ACCOUNT (printed as the last line)."""

    async def work(services: Services) -> str:
        async with services.db.write_session() as session:
            row = await accounts.get_account_by_name(session, account)
            return await accounts.create_key(session, row, services.secret)

    key = _run(_settings(database_url), work)
    console.print(f"New API key for {account!r}:")
    print(key, flush=True)


@keys_app.command("revoke")
def keys_revoke(key_prefix: str, database_url: DatabaseOption = None) -> None:
    """Revoke the key(s) starting with KEY_PREFIX (at least ``ls_live_`` and 4 characters)."""

    async def work(services: Services) -> int:
        async with services.db.write_session() as session:
            return await accounts.revoke_keys(session, key_prefix)

    count = _run(_settings(database_url), work)
    if not count:
        err.print(f"No active key starts with {key_prefix[:16]!r}.")
        raise typer.Exit(1)
    console.print(f"Revoked {count} key{'s' if count != 1 else ''}.")


@credits_app.command("grant")
def credits_grant(
    account: str,
    credits: Annotated[int, typer.Argument(min=1)],
    database_url: DatabaseOption = None,
) -> None:
    """Add CREDITS to ACCOUNT."""

    async def work(services: Services) -> int:
        async with services.db.write_session() as session:
            row = await accounts.get_account_by_name(session, account)
            await ledger.grant(session, row.id, credits, "grant")
            return (await ledger.balance_of(session, row.id)).balance

    balance = _run(_settings(database_url), work)
    console.print(f"Granted {credits} credits to {account!r}; balance {balance}.")


@ledger_app.command("check")
def ledger_check(database_url: DatabaseOption = None) -> None:
    """Check that every account's balance row equals the sums of its ledger entries (balance,
    total earned, total spent); exit 1 listing the accounts that do not."""

    async def work(services: Services) -> list[Any]:
        async with services.db.read_session() as session:
            return await ledger.check(session)

    problems = _run(_settings(database_url), work)
    for problem in problems:
        err.print(
            f"{problem.account}: balance row (balance, earned, spent) = {problem.row}, "
            f"entries sum to {problem.entries}",
            soft_wrap=True,
        )
    if problems:
        raise typer.Exit(1)
    console.print("Ledger balanced: every account's balance row matches its entries.")


@webhooks_app.command("secret")
def webhooks_secret(
    account: str,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace the secret (old signatures stop verifying).")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Print ACCOUNT's webhook signing secret as the last line (made on first use); verify
    the LeadSonar-Signature header of webhook calls with it (docs/api.md)."""

    async def work(services: Services) -> str:
        async with services.db.write_session() as session:
            row = await accounts.get_account_by_name(session, account)
            return await webhook_secret_for(session, row.id, rotate=rotate)

    secret = _run(_settings(database_url), work)
    console.print(
        f"{'New w' if rotate else 'W'}ebhook signing secret of {account!r} (keep it private):"
    )
    print(secret, flush=True)


@app.command("import")
def import_contacts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    account: Annotated[
        str, typer.Option("--account", help="The account the contacts belong to.")
    ] = "default",
    database_url: DatabaseOption = None,
) -> None:
    """Import contacts (CSV: firstName,lastName,company,website,email,phone) for the ``known``
    provider of ACCOUNT (only that account's lookups see them); importing a row again updates
    it. Every email also teaches its domain's address pattern (shared knowledge, once per
    address). A CSV of companies (company,website or name,domain) instead tells lookups by
    company name their domain (shared knowledge)."""
    kind = _file_check(lambda: csv_kind(file))
    if kind == "contacts":
        _file_check(lambda: next(read_contacts_csv(file), None))

    created: list[str] = []

    async def work(services: Services) -> ImportReport:
        report = ImportReport(skipped=[])
        owner = None
        if kind == "contacts":
            if account == "default" and (key := await ensure_first_account(services)):
                created.append(key)
            owner = await _account_id(services, account)
            if owner is None:
                raise NotFound(f"No account named {account!r}.")
        if kind == "companies":
            companies = read_companies_csv(file)
            while chunk := list(islice(companies, 500)):
                async with services.db.write_session() as session:
                    await import_companies(session, chunk, report)
        else:
            assert owner is not None  # contacts always belong to an account (checked above)
            rows = read_contacts_csv(file)
            while batch := list(islice(rows, 500)):
                async with services.db.write_session() as session:
                    await import_rows(session, batch, report, owner)
        # New contacts or companies can change answers already cached (a "not found" above all).
        await LookupCacheStore(services.db, services.settings.lookup_cache_ttl).clear()
        return report

    settings = _settings(database_url)
    report = _run(settings, work)
    if created:
        console.print(
            f"First use: created account 'default' with {settings.initial_credits} credits.\n"
            "Its API key (shown only this once, keep it):"
        )
        print(created[0], flush=True)
    for line in (report.skipped or [])[:20]:
        err.print(f"skipped {line}")
    if kind == "companies":
        console.print(f"Imported {report.imported} of {report.rows} companies.")
        return
    console.print(
        f"Imported {report.imported} of {report.rows} contacts; "
        f"{report.patterns_learned} emails taught their domain's pattern."
    )


@app.command()
def suppress(
    target: Annotated[str, typer.Argument(help="An email address or a domain.")],
    reason: Annotated[str | None, typer.Option(help="A note for yourself.")] = None,
    lift: Annotated[bool, typer.Option("--lift", help="Remove the suppression instead.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Suppress EMAIL or DOMAIN in every account: never returned, never probed (docs/privacy.md)."""
    from leadsonar.suppressions import service as suppressions
    from leadsonar.suppressions.models import EVERYONE

    email, domain = (target, None) if "@" in target else (None, target)

    async def work(services: Services) -> str:
        kind, value = suppressions.parse_target(email, domain)
        async with services.db.write_session() as session:
            if lift:
                if not await suppressions.remove(session, EVERYONE, kind, value):
                    raise LeadSonarError(f"No operator suppression of {value!r}.")
                return f"Lifted the suppression of {value}."
            await suppressions.add(session, EVERYONE, kind, value, reason)
            return f"Suppressed {kind} {value}."

    console.print(_run(_settings(database_url), work))


@app.command()
def erase(email: str, database_url: DatabaseOption = None) -> None:
    """Erase EMAIL (GDPR Art. 17): remove it from imported contacts, caches and stored job
    results, and suppress it for good."""
    from leadsonar.kit.emails import normalise_email
    from leadsonar.suppressions import service as suppressions

    async def work(services: Services) -> tuple[str, suppressions.ErasureReport]:
        address = normalise_email(email, allow_reserved=True)
        async with services.db.write_session() as session:
            return address, await suppressions.erase(session, address)

    address, report = _run(_settings(database_url), work)
    console.print(
        f"Erased {address}: {report.contacts} imported contacts, {report.cache_entries} cached "
        f"answers, {report.crawls} cached crawls, {report.job_results} job results; the address "
        "is now suppressed."
    )


@app.command("settings")
def show_settings(
    defaults: Annotated[
        bool, typer.Option(help="Show defaults instead of current values.")
    ] = False,
) -> None:
    """List every LEADSONAR_* setting with its current value (keys shown only as set/unset),
    one per line as ``NAME=value  # meaning``."""
    for env, value, meaning in describe_settings(None if defaults else _settings(None)):
        console.print(f"{env}={value}  # {meaning}", soft_wrap=True)


@app.command("find-email")
def find_email(
    first: str,
    last: str,
    domain: str,
    account: AccountOption = "default",
    database_url: DatabaseOption = None,
) -> None:
    """Find FIRST LAST's work email at DOMAIN (no credits: an operator command), with the
    imported contacts of ``--account`` (default ``default``)."""

    async def work(services: Services) -> dict[str, Any]:
        target = await services.lookup.target(first, last, domain, None)
        result = await services.lookup.run(
            "email", target, account_id=await _account_id(services, account)
        )
        finding = result.finding
        return {
            "email": finding.value if finding else None,
            "confidence": finding.confidence.value if finding else None,
            "sources": result.sources,
            "provider": finding.provider if finding else None,
            "verification": finding.verification.value if finding else None,
            "reason": answer_reason(result, target),
            "smtpConnections": result.probe.connections,
            "smtpRcpts": result.probe.rcpts,
        }

    console.print_json(data=_run(_settings(database_url), work))


@app.command("company")
def resolve_company(name: str, database_url: DatabaseOption = None) -> None:
    """Resolve the company NAME to its domain (imports, Wikidata, providers' company searches,
    verified guesses) and print the domain, where it came from and why, as JSON."""

    async def work(services: Services) -> dict[str, Any]:
        resolution = await services.lookup.companies.resolve(name, services.dns_check)
        return {
            "company": name,
            "domain": resolution.domain,
            "domainSource": resolution.source,
            "domainReason": resolution.reason,
        }

    console.print_json(data=_run(_settings(database_url), work))


class RateColumn(ProgressColumn):
    """Rows per second, from Rich's speed estimate (``–`` until there is one)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} rows/s" if speed else "– rows/s")


def _file_check(read: Callable[[], T]) -> T:
    """Run ``read`` (which opens a lead file); a file the reader refuses ends the command
    with its one sentence and exit status 2 (usage error), never a traceback."""
    try:
        return read()
    except LeadSonarError as exc:
        err.print(f"Error: {exc.message}", style="red", soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def enrich(
    input_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
    phone: Annotated[bool, typer.Option("--phone/--no-phone", help="Also find phones.")] = False,
    concurrency: Annotated[
        int,
        typer.Option(envvar="LEADSONAR_JOB_CONCURRENCY", min=1, max=64, help="Lookups at once."),
    ] = Settings.model_fields["job_concurrency"].default,
    account: AccountOption = "default",
    database_url: DatabaseOption = None,
) -> None:
    """Enrich a CSV into OUT.csv, streaming: rows are read, looked up and written in order, a
    window at a time, so large files need little memory. Columns are found by their usual names
    (First Name, Last Name or Full Name, Company Name, Website or Domain); a row with a company
    name and no website has its company resolved to a domain (each distinct name once; the
    resolver caches it). UTF-8, UTF-16 and Latin-1 files with , ; or tab delimiters are read. A
    file without a name column or without a company-or-website column is refused (exit 2)."""

    def count() -> int:
        table = read_path(input_file)
        table.require("enrich")
        return sum(1 for _ in table.rows())

    total = _file_check(count)

    async def work(services: Services) -> int:
        written = 0
        account_id = await _account_id(services, account)
        table = read_path(input_file)
        with (
            output.open("w", newline="", encoding="utf-8") as sink,
            Progress(
                TextColumn("enriching"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=err,
            ) as progress,
        ):
            fields = list(table.header)
            extra = [
                "email",
                "confidence",
                "verification",
                "sources",
                "provider",
                "phone",
                "phone_type",
                "company_phone",
                "domain",
                "domain_source",
                "reason",
            ]
            writer = csv.DictWriter(sink, fieldnames=fields + [f for f in extra if f not in fields])
            writer.writeheader()
            task = progress.add_task("enrich", total=total)
            semaphore = asyncio.Semaphore(concurrency)

            async def one(cells: list[str], canon: dict[str, str]) -> dict[str, Any]:
                out: dict[str, Any] = dict(zip(fields, cells, strict=False))
                if not canon.get("firstname") or not canon.get("lastname"):
                    out["reason"] = "skipped: the row has no first name or no last name"
                    progress.advance(task)
                    return out
                async with semaphore:
                    try:
                        target = await services.lookup.target(
                            canon.get("firstname", ""),
                            canon.get("lastname", ""),
                            canon.get("website") or None,
                            canon.get("company") or None,
                        )
                        out["domain"] = target.company.domain or ""
                        out["domain_source"] = target.domain_source or ""
                        mail = await services.lookup.run("email", target, account_id=account_id)
                        out["reason"] = answer_reason(mail, target) or ""
                        if mail.finding:
                            out |= {
                                "email": mail.finding.value,
                                "confidence": mail.finding.confidence.value,
                                "verification": mail.finding.verification.value,
                                "sources": mail.sources,
                                "provider": mail.finding.provider,
                            }
                        if phone:
                            dialled = await services.lookup.run(
                                "phone", target, account_id=account_id
                            )
                            found = dialled.finding
                            if dialled.company_phone:
                                out["company_phone"] = display_from_e164(dialled.company_phone)
                            if found:
                                out |= {
                                    "phone": display_from_e164(found.value),
                                    "phone_type": found.kind,
                                }
                    except LeadSonarError as exc:
                        out["reason"] = f"error: {exc.message}"
                progress.advance(task)
                return out

            records = ((cells, canon) for _line, cells, canon in table.records())
            while chunk := list(islice(records, max(concurrency * 8, 32))):
                for result in await asyncio.gather(*(one(c, r) for c, r in chunk)):
                    writer.writerow(result)
                    written += 1
                sink.flush()
        return written

    written = _run(_settings(database_url), work)
    console.print(f"Wrote {written} rows to {output}.")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
