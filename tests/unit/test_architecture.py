"""The architecture linter (issue 9 §2, DESIGN.md §2a, CONVENTIONS.md habit 3).

Two rules, checked on the source with :mod:`ast`:

1. **Commit at the edge.** Only the edges commit or open a transaction: the request's session
   scope, the job-item edge (the embedded runner and the queue task), the CLI commands, and the
   plumbing that implements them. Anywhere else a call of ``.commit()``, ``.begin()``,
   ``.write_session()`` or ``Database.session()`` fails the test. ``.read_session()`` (a read that
   is never committed, for the lookup hot path, which must not hold a transaction across DNS,
   SMTP or HTTP) is allowed in ``repository.py`` files too.
2. **Queries live in repositories.** ``select(``, ``insert(``, ``update(``, ``delete(`` and
   ``session.execute`` / ``.scalar`` / ``.scalars`` / ``.get`` appear only in ``repository.py``
   files (and in the plumbing and migrations).

Modules that break a rule today are listed in :data:`ALLOWED` with their owner and the reason:
the list is the plan. An entry that no longer breaks its rule fails the test too, so the list
only shrinks. polar keeps such linters in ``server/scripts/linters/``; ours is a test so that
``./run test`` keeps it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "leadsonar"

TRANSACTION = "transaction"
QUERY = "query"

# Calls that end or open a transaction: ``x.commit()``, ``x.begin()``, ``db.write_session()``,
# ``db.write_connection()``, ``db.write_sync()``, ``db.write_statement()``,
# ``db.session()`` (commits when its block ends), ``db.read_session()``.
COMMITTING = {
    "commit",
    "begin",
    "write_session",
    "write_connection",
    "write_sync",
    "write_statement",
    "session",
}
READING = {"read_session"}
# Query builders (called by name) and session methods that run a statement.
BUILDERS = {"select", "insert", "update", "delete"}
RUNNERS = {"execute", "scalar", "scalars", "get"}

# The edges and the plumbing that implements them may commit (rule 1) by rule, not by list.
EDGES = {
    "leadsonar/cli.py": "the CLI commands: each command is one unit of work",
    "leadsonar/enrichment/runner.py": "the job-item edge of the embedded runner",
    "leadsonar/enrichment/tasks.py": "the job-item edge of the procrastinate queue",
    "leadsonar/kit/db.py": "the session scopes themselves (commit on success, roll back)",
    "leadsonar/services.py": "the request edge: each request's UnitOfWork commits or rolls back",
    "leadsonar/domains/knowledge.py": (
        "the knowledge edge: what one lookup learned (MX, catch-all, blocks, patterns, crawls, "
        "company → domain) persisted in one write transaction after its network work, called "
        "once by Waterfall.run (and by verify-email, a re-probe, a crawl, a company resolution)"
    ),
}
# Plumbing exempt from both rules: schema changes and test stand-ins are not the product's
# units of work.
PLUMBING = (
    "leadsonar/kit/db.py",  # the scopes and the dialect-neutral upsert repositories call
    "leadsonar/kit/prebuilt.py",  # runs the statements repositories build, on the driver
    "leadsonar/kit/migrate.py",
    "leadsonar/migrations/",
    "leadsonar/testing/",
)

W_API = (
    "w-api (request edge: accounts, ledger, lookup, idempotency, assembly.py, waterfall/cache.py)"
)
W_BOOK = "w-book (providers' book: health, registry, quotas, usage)"
W_CLI = "w-cli (enrichment, domains facts/contacts, webhooks, suppressions, operations)"

# (module, rule) → (owner, reason). Shrink it; never grow it without a reason.
ALLOWED: dict[tuple[str, str], tuple[str, str]] = {
    ("leadsonar/assembly.py", TRANSACTION): (
        W_API,
        "start-up loads or creates the key-hashing secret in its own transaction (a start-up edge)",
    ),
    ("leadsonar/idempotency/middleware.py", TRANSACTION): (
        W_API,
        "the ASGI middleware records keys around the request, outside its unit of work",
    ),
    ("leadsonar/providers/book.py", TRANSACTION): (
        W_BOOK,
        "the provider-usage writer: a background edge of its own (every two seconds, never "
        "inside a request), and the stored usage read once at start",
    ),
    ("leadsonar/ledger/reservations.py", TRANSACTION): (
        W_API,
        "group-committed charges: the charge is its own short transaction before any "
        "network I/O, by design (docs/architecture.md)",
    ),
    ("leadsonar/lookup/service.py", TRANSACTION): (
        W_API,
        "the namesake read and the refund: their own short transactions around the lookup",
    ),
    ("leadsonar/waterfall/cache.py", TRANSACTION): (
        W_API,
        "the lookup cache reads and group-commits answers in its own short transactions",
    ),
    ("leadsonar/webhooks/delivery.py", TRANSACTION): (
        W_CLI,
        "the dispatcher is a background edge: claim, then record each attempt after the POST",
    ),
}


def _receiver(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def violations(path: Path) -> Iterator[tuple[str, int, str]]:
    """``(rule, line, call)`` for every call in ``path`` that breaks rule 1 or 2 if the module
    is neither an edge nor a repository."""
    name = path.name
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in COMMITTING and not (func.attr == "session" and node.args):
                yield TRANSACTION, node.lineno, f".{func.attr}()"
            elif func.attr in READING and name != "repository.py":
                yield TRANSACTION, node.lineno, f".{func.attr}()"
            receiver = _receiver(func.value).lower()
            if func.attr in RUNNERS and (
                "session" in receiver or receiver in ("conn", "connection")
            ):
                if name != "repository.py":
                    yield QUERY, node.lineno, f"{receiver}.{func.attr}()"
        elif isinstance(func, ast.Name) and func.id in BUILDERS and name != "repository.py":
            yield QUERY, node.lineno, f"{func.id}()"


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        if not module.startswith(PLUMBING):
            yield module, path


def found() -> dict[tuple[str, str], list[str]]:
    """Every (module, rule) broken outside the edges, with the calls that break it."""
    broken: dict[tuple[str, str], list[str]] = {}
    for module, path in _modules():
        for rule, line, call in violations(path):
            if rule == TRANSACTION and module in EDGES:
                continue
            broken.setdefault((module, rule), []).append(f"{module}:{line} {call}")
    return broken


def test_transactions_and_queries_stay_where_they_belong() -> None:
    broken = found()
    new = {key: calls for key, calls in broken.items() if key not in ALLOWED}
    assert not new, (
        "commit only at the request/job/CLI edges and build queries only in repository.py "
        "files (tests/unit/test_architecture.py):\n"
        + "\n".join(call for calls in new.values() for call in calls)
    )


def test_the_allow_list_only_shrinks() -> None:
    """An allowed module that no longer breaks its rule must leave the list."""
    stale = sorted(
        f"{module} ({rule})" for module, rule in ALLOWED if (module, rule) not in found()
    )
    assert not stale, f"remove from ALLOWED, fixed: {stale}"


def test_every_allowance_names_its_owner_and_reason() -> None:
    assert all(owner and reason for owner, reason in ALLOWED.values())


def test_the_linter_sees_a_commit_and_a_query(tmp_path: Path) -> None:
    """The checker itself: a service that commits and builds a query is caught."""
    service = tmp_path / "service.py"
    service.write_text(
        "async def f(db, session):\n"
        "    async with db.session() as s:\n"
        "        await s.execute(select(X))\n"
        "    await session.commit()\n"
    )
    rules = sorted({rule for rule, _line, _call in violations(service)})
    assert rules == [QUERY, TRANSACTION]
    repository = tmp_path / "repository.py"
    repository.write_text(
        "async def g(db, session):\n"
        "    async with db.read_session() as s:\n"
        "        return await s.scalar(select(X))\n"
    )
    assert list(violations(repository)) == []
