"""Shared fixtures: settings on a temporary SQLite file, PostgreSQL and Redis when reachable.

PostgreSQL and Redis tests run when the services answer (``LEADSONAR_TEST_POSTGRES_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``; ``LEADSONAR_TEST_REDIS_URL``,
default ``redis://127.0.0.1:6379/0``) and are skipped otherwise, unless
``LEADSONAR_TEST_REQUIRE_SERVICES=1`` (as ``.ci/run`` sets), which turns a skip into a failure.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from leadsonar.config import Settings

POSTGRES_URL = os.environ.get(
    "LEADSONAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LEADSONAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("LEADSONAR_TEST_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the operator's LEADSONAR_* settings."""
    for name in list(os.environ):
        if name.startswith("LEADSONAR_") and not name.startswith("LEADSONAR_TEST_"):
            monkeypatch.delenv(name, raising=False)
    # Wikidata is on by default and public: tests reach only loopback, so a test that wants
    # it points LEADSONAR_COMPANY_WIKIDATA_URL at the stand-in (leadsonar.testing.wikidata).
    monkeypatch.setenv("LEADSONAR_COMPANY_WIKIDATA", "false")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _unavailable(what: str) -> None:
    message = f"{what} is not reachable"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and LEADSONAR_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'leadsonar.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    if not _reachable(POSTGRES_URL, 5432):
        _unavailable("PostgreSQL")
    import psycopg

    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"leadsonar_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    if not _reachable(REDIS_URL, 6379):
        _unavailable("Redis")
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def make_settings(sqlite_url: str) -> Callable[..., Settings]:
    """Settings for tests: a temporary database, loopback allowed, quick timeouts."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": sqlite_url,
            "allowed_private_networks": "127.0.0.0/8",
            "smtp_helo_name": "probe.leadsonar.test",
            "smtp_timeout": 5.0,
            "smtp_connect_timeout": 2.0,
            "smtp_banner_timeout": 5.0,
            "dns_timeout": 2.0,
            "rate_limit": "10000/second",
            "job_poll_interval": 0.2,
        }
        values.update(overrides)
        return Settings(**values)

    return make
