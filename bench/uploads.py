"""Lead-list uploads at the size limit: a 50,000-row CSV through ``POST /enrich/file``.

Measured over HTTP against the real app on loopback (SQLite file database, the ``known``
provider only, so nothing leaves the machine): the preview (``dryRun=true``: decode, map, check
every row, price), the upload that reserves credits and stores 50,000 items, cancelling the job
(one refund entry for every row not yet worked), and streaming ``results.csv`` of all 50,000
rows. The file is Windows-1252 with semicolons and 5 % repeated people, as a real export is.
Reported: seconds per step, rows per second, the CSV's size.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import save
from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer

ROWS = 50_000
FIRST = ["Élodie", "José", "Anna", "Mike", "Sarah", "Jürgen", "Zoë", "Omar", "Wei", "Priya"]
LAST = ["Marchand", "Núñez", "Schmidt", "Lee", "Chen", "Müller", "Haddad", "Zhang", "Patel"]


def lead_file(rows: int, seed: int = 11) -> bytes:
    """A ``Prénom;Nom;Société;Website;Notes`` file in Windows-1252 with ``rows`` data rows."""
    rng = random.Random(seed)
    lines = ["Prénom;Nom;Société;Website;Notes"]
    for n in range(rows):
        if n and rng.random() < 0.05:
            lines.append(lines[rng.randrange(1, len(lines))])  # a repeated person
            continue
        company = f"Firma{n % 4000}"
        lines.append(
            f"{rng.choice(FIRST)};{rng.choice(LAST)}{n};{company} SA;{company.lower()}.com;lead {n}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


async def run() -> dict[str, Any]:
    data = lead_file(ROWS)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            providers="email=known;phone=known",
            rate_limit="1000/second",
            job_concurrency=1,
        )
        async with LiveServer(settings) as server:
            key = await server.create_account("bench", credits=ROWS * 2)
            async with httpx.AsyncClient(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
            ) as client:
                files = {"file": ("leads.csv", data, "text/csv")}
                began = time.perf_counter()
                preview = await client.post(
                    "/api/v1/enrich/file", params={"dryRun": "true"}, files=files
                )
                preview_s = time.perf_counter() - began
                assert preview.status_code == 200, preview.text
                await server.services.runner.stop()  # measure storing, not working
                began = time.perf_counter()
                accepted = await client.post("/api/v1/enrich/file", files=files)
                upload_s = time.perf_counter() - began
                assert accepted.status_code == 202, accepted.text
                job_id = accepted.json()["jobId"]
                began = time.perf_counter()
                cancelled = await client.post(f"/api/v1/enrich/{job_id}/cancel")
                cancel_s = time.perf_counter() - began
                began = time.perf_counter()
                size = rows = 0
                async with client.stream("GET", f"/api/v1/enrich/{job_id}/results.csv") as r:
                    async for chunk in r.aiter_bytes():
                        size += len(chunk)
                        rows += chunk.count(b"\n")
                export_s = time.perf_counter() - began
    body = preview.json()
    return {
        "rows": ROWS,
        "file_bytes": len(data),
        "lookups": body["lookups"],
        "duplicates": body["duplicates"],
        "preview_seconds": round(preview_s, 2),
        "upload_seconds": round(upload_s, 2),
        "upload_rows_per_second": round(ROWS / upload_s),
        "cancel_seconds": round(cancel_s, 2),
        "credits_refunded": cancelled.json()["credits_refunded"],
        "export_seconds": round(export_s, 2),
        "export_rows_per_second": round(ROWS / export_s),
        "export_lines": rows,
        "export_bytes": size,
    }


def main(argv: list[str]) -> None:
    figures = asyncio.run(run())
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    print(f"saved {save('uploads', figures)}")
