"""Browser fixtures: Debian's Chromium driven by Playwright, and the loopback network world."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.integration.conftest import dns_zone, smtp_world  # noqa: F401 (fixtures)

CHROMIUM = os.environ.get("LEADSONAR_TEST_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless Chromium on a machine without outside network: no background requests
# (they would be refused, many at a time), no sandbox (CI runs as root), no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """A headless Chromium (``/usr/bin/chromium``, Debian's package) through Playwright."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def screenshots() -> Path | None:
    """Where to save page screenshots (``LEADSONAR_TEST_SCREENSHOTS``, set by ``scripts/screenshots``),
    or ``None`` in ordinary test runs."""
    target = os.environ.get("LEADSONAR_TEST_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path
