"""Issue 11 §3-§4: CSV uploads (preview, mapping, encodings, limits) and bulk verification."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import func, select

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings
from tests.integration.test_jobs_resource import KNOWN, wait_done

pytestmark = pytest.mark.asyncio

# A lead list as Excel on French Windows saves it: Windows-1252, semicolons, French headers.
LATIN1_FILE = (
    "Prénom;Nom;Société;Website;Notes\r\n"
    "Sarah;Chen;Figma;figma.com;vue au salon\r\n"
    "Mike;Lee;Linear;https://linear.app/;\r\n"
    "Sarah;Chen;Figma;www.figma.com;doublon\r\n"
    "Élodie;;Crème SA;creme.fr;sans nom\r\n"
).encode("cp1252")


@pytest.fixture
async def live(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as server:
        key = await server.create_account("files", credits=10)
        owner = await server.account_id("files")
        async with server.services.db.session() as session:
            await import_rows(session, list(enumerate(KNOWN, start=2)), ImportReport(), owner)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            yield server, client


def _upload(data: bytes, name: str = "leads.csv", **form: str) -> dict[str, object]:
    return {"files": {"file": (name, data, "text/csv")}, "data": form}


async def _jobs(server: LiveServer) -> int:
    async with server.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(EnrichmentJob)) or 0)


async def test_preview_shows_rows_mapping_cost_and_balance_and_changes_nothing(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    response = await client.post(
        "/api/v1/enrich/file", params={"dryRun": "true"}, **_upload(LATIN1_FILE, findPhone="true")
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["columns"] == {
        "firstname": "Prénom",
        "lastname": "Nom",
        "company": "Société",
        "website": "Website",
    }
    assert (preview["encoding"], preview["delimiter"]) == ("cp1252", ";")
    assert (preview["rows"], preview["lookups"], preview["duplicates"], preview["skipped"]) == (
        4,
        2,
        1,
        1,
    )
    assert "no first name or no last name" in preview["skippedReasons"][0]
    assert (preview["credits_needed"], preview["balance"], preview["enough"]) == (4, 10, True)
    assert preview["sample"][0]["firstname"] == "Sarah"
    assert await _jobs(server) == 0
    assert (await client.get("/api/v1/credits")).json()["balance"] == 10


async def test_an_upload_becomes_one_job_and_its_csv_keeps_the_input_columns(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    response = await client.post("/api/v1/enrich/file", **_upload(LATIN1_FILE, findPhone="true"))
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["total"] == 4 and accepted["credits_used"] == 4
    done = await wait_done(client, accepted["jobId"])
    assert done["status"] == "completed" and done["source"] == "file"
    listed = (await client.get("/api/v1/enrich")).json()["jobs"][0]
    assert (listed["jobId"], listed["source"], listed["fileName"]) == (
        accepted["jobId"],
        "file",
        "leads.csv",
    )
    exported = await client.get(f"/api/v1/enrich/{accepted['jobId']}/results.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8"))))
    assert rows[0][:5] == ["Prénom", "Nom", "Société", "Website", "Notes"]
    assert rows[0][5:] == [
        "email",
        "confidence",
        "phone",
        "type",
        "companyPhone",
        "verification",
        "reason",
    ]
    assert rows[1][0] == "Sarah" and rows[1][5] == "sarah@figma.com"
    assert rows[3][4] == "doublon" and rows[3][5] == "sarah@figma.com"  # the repeat, answered
    assert rows[4][0] == "Élodie" and "no first name" in rows[4][-1]  # skipped, not charged
    assert (await client.get("/api/v1/credits")).json()["balance"] == 6


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"Frist Name,Last Name,Website\nA,B,c.com\n", "first-name and last-name columns"),
        (b"First Name,Last Name,Title\nA,B,CEO\n", "company or website column"),
        (b"First Name,Last Name,Website\n", "no data rows"),
        (b"", "is empty"),
        (
            b'First Name,Last Name,Website\nAnn,"Lee,acme.com\nBob,Ray,acme.com\n',
            'line 2 opens a quote (") that is not closed before line 3',
        ),
    ],
)
async def test_a_file_that_cannot_be_used_is_400_naming_why(
    live: tuple[LiveServer, httpx.AsyncClient], data: bytes, says: str
) -> None:
    server, client = live
    response = await client.post("/api/v1/enrich/file", **_upload(data))
    assert response.status_code == 400
    assert set(response.json()) == {"error"} and says in response.json()["error"]
    assert await _jobs(server) == 0


async def test_form_errors_are_400_sentences(live: tuple[LiveServer, httpx.AsyncClient]) -> None:
    _, client = live
    form = await client.post("/api/v1/enrich/file", data={"findEmail": "true"})
    assert form.status_code == 400 and "multipart/form-data" in form.json()["error"]
    no_file = await client.post(
        "/api/v1/enrich/file", files={"upload": ("a.csv", b"x", "text/csv")}
    )
    assert no_file.status_code == 400 and "file is required" in no_file.json()["error"]
    bad_mode = await client.post("/api/v1/enrich/file", **_upload(LATIN1_FILE, mode="find"))
    assert bad_mode.status_code == 400 and "mode" in bad_mode.json()["error"]
    nothing = await client.post(
        "/api/v1/enrich/file", **_upload(LATIN1_FILE, findEmail="false", findPhone="false")
    )
    assert nothing.status_code == 400 and "nothing to find" in nothing.json()["error"]


async def test_an_upload_beyond_the_balance_is_402_and_no_job(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    rows = "\n".join(f"Person{i},Smith,acme{i}.com" for i in range(11))
    data = f"first_name,last_name,domain\n{rows}\n".encode()
    response = await client.post("/api/v1/enrich/file", **_upload(data))
    assert response.status_code == 402 and "11 credits" in response.json()["error"]
    assert await _jobs(server) == 0


async def test_more_than_fifty_thousand_rows_is_400(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    data = b"first,last,website\n" + b"A,B,acme.com\n" * 50_001
    response = await client.post("/api/v1/enrich/file", **_upload(data))
    assert response.status_code == 400 and "50,000 rows" in response.json()["error"]


# -- bulk verification against a loopback DNS and SMTP world -----------------------------------


async def test_an_email_column_is_verified_one_credit_per_address(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, database_url: str
) -> None:
    """On SQLite (embedded runner) and on PostgreSQL (the upload's items deferred on the
    procrastinate queue in the upload's transaction, worked by the queue worker)."""
    dns_zone.add_mx("verify.test", [(10, "mx.verify.test")])
    dns_zone.add_a("mx.verify.test", "127.0.0.11")
    dns_zone.add_null_mx("nomail.test")
    await smtp_world.serve("127.0.0.11", mailboxes={"ana@verify.test", "bo@verify.test"})
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=database_url,
        rate_limit="1000/second",
        job_poll_interval=0.1,
    )
    data = (
        b"Name,Email Address\n"
        b"Ana,ana@verify.test\n"
        b"Nobody,nobody@verify.test\n"
        b"Ana again,ANA@verify.test\n"
        b"Nomail,x@nomail.test\n"
        b"Broken,not an address\n"
    )
    async with LiveServer(settings) as server:
        key = await server.create_account("verifier", credits=10)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-API-Key": key}, timeout=60
        ) as client:
            preview = await client.post(
                "/api/v1/enrich/file", params={"dryRun": "true"}, **_upload(data, mode="verify")
            )
            assert preview.json()["credits_needed"] == 3, preview.text
            accepted = await client.post("/api/v1/enrich/file", **_upload(data, mode="verify"))
            assert accepted.status_code == 202, accepted.text
            assert accepted.json()["credits_used"] == 3
            done = await wait_done(client, accepted.json()["jobId"], seconds=60)
            exported = await client.get(f"/api/v1/enrich/{accepted.json()['jobId']}/results.csv")
            balance = (await client.get("/api/v1/credits")).json()["balance"]
    assert done["status"] == "completed" and done["kind"] == "verify"
    verdicts = [(r["email"], r["verification"]) for r in done["results"]]
    assert verdicts == [
        ("ana@verify.test", "valid"),
        ("nobody@verify.test", "invalid"),
        ("ana@verify.test", "valid"),
        ("x@nomail.test", "invalid"),
        ("not an address", "invalid"),
    ]
    assert done["results"][1]["reason"] and done["results"][4]["reason"]
    assert done["results"][2]["duplicateOf"] == 0
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["verification"] for row in rows] == [v for _, v in verdicts]
    assert rows[0]["Email Address"] == "ana@verify.test"
    assert balance == 7


async def test_a_verification_file_without_an_email_column_is_400(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    response = await client.post("/api/v1/enrich/file", **_upload(LATIN1_FILE, mode="verify"))
    assert response.status_code == 400 and "email column" in response.json()["error"]


async def test_a_greylisted_address_in_a_verification_job_is_asked_again_later(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, database_url: str
) -> None:
    """FC-22 in bulk: the row goes back to the queue until the server's delay has passed,
    instead of a worker waiting it out (on PostgreSQL a queue entry scheduled for that time);
    the second ask gets the real answer."""
    dns_zone.add_mx("grey.test", [(10, "mx.grey.test")])
    dns_zone.add_a("mx.grey.test", "127.0.0.12")
    server = await smtp_world.serve(
        "127.0.0.12", mailboxes={"ana@grey.test"}, greylist=True, greylist_delay=0.3
    )
    settings = make_net_settings(
        dns_zone,
        smtp_world,
        database_url=database_url,
        rate_limit="1000/second",
        job_poll_interval=0.1,
        smtp_greylist_delay=0.4,
    )
    async with LiveServer(settings) as live:
        key = await live.create_account("grey", credits=5)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"X-API-Key": key}, timeout=60
        ) as client:
            accepted = await client.post(
                "/api/v1/enrich/file", **_upload(b"Email\nana@grey.test\n", mode="verify")
            )
            done = await wait_done(client, accepted.json()["jobId"], seconds=60)
        async with live.services.db.session() as session:
            attempts = await session.scalar(
                select(EnrichmentItem.attempts).where(EnrichmentItem.job_id == done["jobId"])
            )
    assert done["status"] == "completed"
    assert done["results"][0]["verification"] == "valid", done["results"][0]
    assert attempts == 1  # deferred once, not waited out by a worker
    assert "ana@grey.test" in {t[2] for t in server.greylisted}
    assert done["smtpRcpts"] >= 2


async def test_results_csv_never_hands_a_spreadsheet_a_formula_from_an_uploaded_file(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    """OWASP CSV Injection: an uploaded list's cells (names, notes, even a header) come back
    quoted when a spreadsheet would run them; the phone numbers found stay dialable."""
    _, client = live
    data = (
        b"First Name,Last Name,Website,=cmd|' /C calc'!A0\r\n"
        b'Sarah,Chen,figma.com,"=HYPERLINK(""http://evil.example/"",""x"")"\r\n'
        b"@SUM(1),-2+3+cmd|' /C calc'!A0,linear.app,+1-415-555-0192\r\n"
    )
    response = await client.post("/api/v1/enrich/file", **_upload(data, findPhone="true"))
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    await wait_done(client, job_id)
    exported = await client.get(f"/api/v1/enrich/{job_id}/results.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8"))))
    assert rows[0][3] == "'=cmd|' /C calc'!A0"
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example/","x")'
    assert rows[1][4] == "sarah@figma.com" and rows[1][6] == "+1-415-555-0301"
    assert rows[2][:2] == ["'@SUM(1)", "'-2+3+cmd|' /C calc'!A0"]
    assert rows[2][3] == "+1-415-555-0192"
    formula_start = ("=", "+", "-", "@", "\t", "\r")
    for row in rows:
        for cell in row:
            assert not cell.startswith(formula_start) or cell.startswith("+1-415-555-"), cell


async def test_an_upload_with_nul_bytes_or_a_broken_utf16_body_is_never_a_500(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    """PostgreSQL text and JSONB cannot hold NUL; a BOM-less UTF-16 file can end mid-character."""
    server, client = live
    with_nul = b"First Name,Last Name,Website,Notes\nSa\x00rah,Chen,figma.com,a\x00b\n"
    accepted = await client.post("/api/v1/enrich/file", **_upload(with_nul))
    assert accepted.status_code == 202, accepted.text
    done = await wait_done(client, accepted.json()["jobId"])
    assert done["results"][0]["firstName"] == "Sarah"
    assert done["results"][0]["email"] == "sarah@figma.com"
    broken = ("First Name\tLast Name\tWebsite\n" + "Ann\tBell\tcorp.com\n" * 300).encode(
        "utf-16-le"
    ) + b"\x00\xd8A\x00"
    refused = await client.post("/api/v1/enrich/file", **_upload(broken))
    assert refused.status_code == 400 and "utf-16-le" in refused.json()["error"]
    assert await _jobs(server) == 1


async def test_very_long_cells_and_file_names_fit_the_columns_on_postgresql(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    """A 300-character file name, a 5,000-character website (its skip reason quotes it) and a
    5,000-character address to verify: PostgreSQL refuses strings longer than their column
    (a 500) where SQLite silently stores them."""
    server, client = live
    long_site = "w" * 5000 + ".com"
    enrich = f"First Name,Last Name,Website\nSarah,Chen,figma.com\nAda,Byron,{long_site}\n"
    name = "l" * 300 + ".csv"
    accepted = await client.post("/api/v1/enrich/file", **_upload(enrich.encode(), name=name))
    assert accepted.status_code == 202, accepted.text
    done = await wait_done(client, accepted.json()["jobId"])
    assert done["results"][0]["email"] == "sarah@figma.com"
    assert (
        done["results"][1]["reason"].startswith("Skipped")
        and len(done["results"][1]["reason"]) <= 300
    )
    verify = f"Email\nsarah@figma.com\n{'x' * 5000}@@figma.com\n"
    checked = await client.post("/api/v1/enrich/file", **_upload(verify.encode(), mode="verify"))
    assert checked.status_code == 202, checked.text
    done = await wait_done(client, checked.json()["jobId"])
    assert done["results"][1]["verification"] == "invalid"
    listed = (await client.get("/api/v1/enrich")).json()["jobs"]
    assert all(len(job["fileName"] or "") <= 255 for job in listed)
    assert await _jobs(server) == 2
