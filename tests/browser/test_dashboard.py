"""The dashboard end to end in a real browser (Debian's Chromium through Playwright).

A user signs in with a key, runs a single lookup against a loopback DNS/SMTP world, uploads a
50-row CSV, watches the job reach ``completed``, downloads its CSV (compared with the API's own
results), creates and revokes a key and sees the revoked key refused. Pages are also checked at a
phone's width and for keyboard use (issue 11 §6–7).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

PEOPLE = [(f"Person{n:02d}", f"Tester{n:02d}") for n in range(50)]


@pytest.fixture
async def world(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, str]]:
    """The app on a loopback port; ``acme.test`` has a mail server that rejects unknown
    recipients and holds ``first.last@`` for Ada Lovelace and the 50 people of the CSV."""
    dns_zone.add_mx("acme.test", [(10, "mx.acme.test")])
    dns_zone.add_a("mx.acme.test", "127.0.0.2")
    mailboxes = {"ada.lovelace@acme.test"} | {
        f"{first.lower()}.{last.lower()}@acme.test" for first, last in PEOPLE
    }
    await smtp_world.serve("127.0.0.2", mailboxes=mailboxes)
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}",
        rate_limit="1000/second",
        job_poll_interval=0.1,
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("acme", credits=500)
        yield server, key


async def _shot(page: Any, screenshots: Path | None, name: str) -> None:
    if screenshots is not None:
        await page.screenshot(path=str(screenshots / f"dashboard-{name}.png"), full_page=True)


async def _sign_in(page: Any, url: str, key: str) -> None:
    await page.goto(f"{url}/")
    assert page.url.endswith("/app/")  # / redirects to the dashboard
    await page.get_by_label("API key", exact=True).fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Credits").wait_for()


async def test_sign_in_refuses_a_wrong_key_and_shows_credits(
    world: tuple[LiveServer, str], browser: Any, screenshots: Path | None
) -> None:
    server, key = world
    page = await browser.new_page()
    await page.goto(f"{server.url}/app/")
    await _shot(page, screenshots, "signin")
    await page.get_by_label("API key", exact=True).fill("ls_live_not_a_real_key")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("That key was refused").wait_for()
    await _sign_in(page, server.url, key)
    await page.locator("#credits-balance", has_text="500").wait_for()
    assert await page.locator("#credits-earned").inner_text() == "500"
    assert await page.locator("#credits-spent").inner_text() == "0"
    # The key lives in this tab's session storage only, never in local storage or a cookie.
    stored = await page.evaluate(
        "() => [sessionStorage.length, localStorage.length, document.cookie]"
    )
    assert stored == [1, 0, ""]
    await _shot(page, screenshots, "credits")


async def test_single_lookup_shows_confidence_verification_and_reason(
    world: tuple[LiveServer, str], browser: Any, screenshots: Path | None
) -> None:
    server, key = world
    page = await browser.new_page()
    await _sign_in(page, server.url, key)
    await page.get_by_role("link", name="Lookup").click()
    await page.get_by_label("First name").fill("Ada")
    await page.get_by_label("Last name").fill("Lovelace")
    await page.get_by_label("Website").fill("acme.test")
    await page.get_by_role("button", name="Look up").click()
    card = page.get_by_role("article", name="Email")
    await card.wait_for()
    assert "ada.lovelace@acme.test" in await card.inner_text()
    assert "high" in await card.inner_text()
    assert "valid" in await card.inner_text()
    await _shot(page, screenshots, "lookup")
    # A person at a domain that does not exist: the reason is shown.
    await page.get_by_label("Website").fill("nowhere.test")
    await page.get_by_role("button", name="Look up").click()
    await page.get_by_text("nowhere.test does not exist in DNS").wait_for()
    # Missing company and website: the form says so and nothing is charged.
    await page.get_by_label("Website").fill("")
    await page.get_by_role("button", name="Look up").click()
    await page.get_by_text("Give a website or a company name.").wait_for()
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as client:
        assert (await client.get("/api/v1/credits")).json()["totalSpent"] == 2


async def test_bulk_upload_progress_and_download_match_the_api(
    world: tuple[LiveServer, str], browser: Any, screenshots: Path | None, tmp_path: Path
) -> None:
    server, key = world
    lead_list = tmp_path / "leads.csv"
    with lead_list.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Company Domain"])
        writer.writerows([first, last, "acme.test"] for first, last in PEOPLE)
    page = await browser.new_page(accept_downloads=True)
    await _sign_in(page, server.url, key)
    await page.get_by_role("link", name="Bulk").click()
    await page.get_by_label("Lead list (CSV)").set_input_files(str(lead_list))
    await page.locator("#quote-rows", has_text="50").wait_for()
    assert await page.locator("#quote-credits").inner_text() == "50"
    assert await page.locator("#quote-balance").inner_text() == "500"
    await _shot(page, screenshots, "bulk-preview")
    await page.get_by_role("button", name="Start job").click()
    row = page.locator("#jobs-table tbody tr").first
    await row.locator(".job-status", has_text="completed").wait_for(timeout=60_000)
    assert "50/50" in await row.inner_text()
    await _shot(page, screenshots, "bulk-jobs")
    job_id = await row.get_attribute("data-job")
    async with page.expect_download() as download_info:
        await row.get_by_role("button", name="Download CSV").click()
    download = await download_info.value
    downloaded = list(csv.DictReader(io.StringIO(Path(await download.path()).read_text("utf-8"))))
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as client:
        status = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        exported = (await client.get(f"/api/v1/enrich/{job_id}/results.csv")).text
    assert status["status"] == "completed" and status["total"] == 50
    assert downloaded == list(csv.DictReader(io.StringIO(exported)))
    assert [row["email"] for row in downloaded] == [r["email"] for r in status["results"]]
    assert all(row["email"] for row in downloaded)


async def test_keys_create_revoke_and_the_revoked_key_is_refused(
    world: tuple[LiveServer, str], browser: Any, screenshots: Path | None
) -> None:
    server, key = world
    page = await browser.new_page()
    await _sign_in(page, server.url, key)
    await page.get_by_role("link", name="Keys").click()
    await page.get_by_role("button", name="Create key").click()
    await page.locator("#new-key-value", has_text="ls_live_").wait_for()
    new_key = (await page.locator("#new-key-value").inner_text()).strip()
    prefix = await page.locator("#new-key-value").get_attribute("data-prefix")
    assert new_key.startswith("ls_live_") and prefix and new_key.startswith(prefix)
    new_row = page.locator(f'#keys-table tbody tr[data-prefix="{prefix}"]')
    await new_row.wait_for()
    await _shot(page, screenshots, "keys")
    # The list shows prefixes only: no full key anywhere in the table.
    assert new_key not in await page.locator("#keys-table").inner_text()
    page.on("dialog", lambda dialog: dialog.accept())
    await new_row.get_by_role("button", name=f"Revoke key {prefix}").click()
    await new_row.get_by_text("revoked").wait_for()
    async with httpx.AsyncClient(base_url=server.url) as client:
        refused = await client.get(
            "/api/v1/credits", headers={"Authorization": f"Bearer {new_key}"}
        )
    assert refused.status_code == 401
    # Signing in with the revoked key in the browser is refused too.
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_label("API key", exact=True).fill(new_key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("That key was refused").wait_for()


async def test_providers_page_and_phone_width_and_keyboard(
    world: tuple[LiveServer, str], browser: Any, screenshots: Path | None
) -> None:
    server, key = world
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    # Keyboard only: tab to the key field, type, Enter.
    await page.goto(f"{server.url}/app/")
    await page.get_by_label("API key", exact=True).focus()
    await page.keyboard.type(key)
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Credits").wait_for()
    await page.get_by_role("link", name="Providers").click()
    smtp_row = page.locator("#providers-table tbody tr", has_text="smtp")
    await smtp_row.wait_for()
    assert "operational" in await smtp_row.inner_text()
    hunter_row = page.locator("#providers-table tbody tr", has_text="hunter")
    assert "unconfigured" in await hunter_row.inner_text()
    # Nothing wider than the phone's screen except inside scrollable tables.
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    await _shot(page, screenshots, "providers-phone")
    await context.close()
