"""compose.yaml and the Dockerfile (issue 10 §5): the topology docs/deploy.md describes — two API
processes, two queue workers, PostgreSQL and Redis, the app built from this repository — checked
by ``docker compose config`` when docker's compose is on the machine, and structurally always."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from leadsonar.config import describe_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _compose_command() -> list[str] | None:
    """``docker compose`` (the plugin) or the standalone ``docker-compose``, if either runs."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_config_is_valid() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("docker compose is not installed")
    checked = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr


def test_compose_runs_two_apis_two_workers_postgres_and_redis() -> None:
    services = _compose()["services"]
    assert set(services) == {"api1", "api2", "worker1", "worker2", "postgres", "redis"}
    for name in ("api1", "api2"):
        assert services[name]["command"][:2] == ["serve", "--no-worker"]
    for name in ("worker1", "worker2"):
        assert services[name]["command"][0] == "worker"
    app = [services[n] for n in ("api1", "api2", "worker1", "worker2")]
    for service in app:
        assert service["build"] == "."  # the image of this repository's Dockerfile
        env = service["environment"]
        assert env["LEADSONAR_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["LEADSONAR_DATABASE_URL"].split("@")[1].startswith("postgres:5432/")
        assert env["LEADSONAR_RATE_LIMIT_STORAGE"].startswith("redis://redis:6379")
        assert set(service["depends_on"]) == {"postgres", "redis"}
    ports = {services[n]["ports"][0].split(":")[-1] for n in ("api1", "api2")}
    assert ports == {"8000"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_compose_sets_only_real_settings() -> None:
    known = {env for env, _, _ in describe_settings()}
    env = _compose()["x-leadsonar-env"]
    assert set(env) <= known, set(env) - known


def test_dockerfile_installs_the_lock_and_runs_leadsonar() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install -r requirements.lock" in text
    assert 'ENTRYPOINT ["leadsonar"]' in text
    assert "USER leadsonar" in text  # not root
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and "*.db" in ignored
