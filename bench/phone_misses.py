"""Every wrong and missed phone answer of one generalization world, with the page snippet.

``python -m bench.phone_misses [--seed N] [--style field|classic] [--with-email]
[--companies N] [--queries N]``

A reading aid for changing the phone extractor on the *tune* seed (:mod:`bench.generalization`
default 1; never the held-out seeds): the world is served as in the benchmark, the product's
find-phone pass runs over HTTP (after the find-email pass with ``--with-email``, as the
benchmark does; without it the phone pass alone, which is what find-phone sees on a fresh
install), and each row whose ``phone`` is wrong, or whose published direct dial was missed, is
printed with the product's answer, the right one (``TWIN``: the number of a colleague whose
request is this row's to the letter, scored neither right nor wrong), and the lines of the
company's pages that hold the person's surname or the number's last digits. Nothing is saved.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import tempfile
from collections import Counter, defaultdict
from contextlib import AsyncExitStack

import httpx

from bench.generalization import STYLES
from bench.runs import (
    CONCURRENCY,
    _body,
    knowledge_base,
    product_settings,
    publish,
    serve_mail,
    serve_web,
)
from bench.scoring import Answer, figures, reachable, tally
from bench.spec import Query, Spec, phone_key
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer

_TAG = re.compile(r"<[^>]+>")


async def _answers(spec: Spec, with_email: bool) -> dict[int, Answer]:
    answers: dict[int, Answer] = defaultdict(Answer)
    with LoopbackDns() as zone:
        publish(spec, zone)
        async with AsyncExitStack() as stack:
            web = await serve_web(spec, stack)
            extra = await knowledge_base(spec, stack)
            smtp = await serve_mail(spec)
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    settings = product_settings(tmp, zone, smtp, web, extra)
                    async with LiveServer(settings) as live:
                        key = await live.create_account("misses", credits=10 * len(spec.queries))
                        async with httpx.AsyncClient(
                            base_url=live.url,
                            headers={"Authorization": f"Bearer {key}"},
                            timeout=300,
                        ) as client:
                            semaphore = asyncio.Semaphore(CONCURRENCY)

                            async def ask(row: Query, path: str) -> None:
                                async with semaphore:
                                    response = await client.post(path, json=_body(row))
                                body = response.json() if response.status_code == 200 else {}
                                answer = answers[row.index]
                                if path.endswith("phone"):
                                    answer.phone = body.get("phone")
                                    answer.phone_type = body.get("type")
                                    answer.company_phone = body.get("companyPhone")
                                    answer.phone_domain = body.get("domain")
                                else:
                                    answer.email = body.get("email")

                            if with_email:
                                await asyncio.gather(
                                    *(ask(r, "/api/v1/find-email") for r in spec.queries)
                                )
                            await asyncio.gather(
                                *(ask(r, "/api/v1/find-phone") for r in spec.queries if r.ask_phone)
                            )
            finally:
                await smtp.close()
    return dict(answers)


def _site_pages(spec: Spec, domain: str) -> dict[str, str]:
    site = next((s for s in spec.sites if s.host == domain), None)
    if site is None:
        return {}
    pages = {}
    for path, page in site.pages("http://site").items():
        body = page.get("body", "") if isinstance(page, dict) else page
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        pages[path] = str(body)
    return pages


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", (text or "").split(";", 1)[0])


def _snippets(pages: dict[str, str], needles: list[str], digits: list[str]) -> list[str]:
    """Lines (HTML split at block ends) holding a needle word or the last 4 digits of a number."""
    out = []
    for path, text in pages.items():
        text = re.sub(r"(</(?:div|li|tr|dd|p|h3|section)>)", r"\1\n", text)
        lines = re.split(r"\r?\n|(?=<dt>)", text)
        for line in lines:
            plain = html.unescape(_TAG.sub(" ", line))
            compact = re.sub(r"\D", "", plain)
            hit = any(n and n.lower() in plain.lower() for n in needles) or any(
                d and d[-4:] in compact for d in digits
            )
            if hit and line.strip():
                out.append(f"      {path}: {line.strip()[:400]}")
    return out[:12]


def report(spec: Spec, answers: dict[int, Answer]) -> None:
    kinds: Counter[str] = Counter()
    for row in spec.queries:
        if not row.ask_phone:
            continue
        a = answers.get(row.index) or Answer()
        region = row.kinds.get("region")
        got = phone_key(a.phone, region)
        right = bool(a.phone) and got == phone_key(row.phone, region)
        twin = bool(a.phone) and not right and got in row.phone_twin
        wrong = bool(a.phone) and not right and not twin
        missed = bool(row.phone) and row.employee and reachable(row) and not right
        if not (wrong or missed or twin):
            continue
        what = "TWIN" if twin else "WRONG" if wrong else "MISSED"
        kind = f"{what} {row.kinds.get('layout')} {row.kinds.get('name')}"
        kinds[kind] += 1
        print(
            f"{what}: {row.first} {row.last} @ {row.domain} ({row.website or row.company}) "
            f"kinds={row.kinds} employee={row.employee}"
        )
        print(f"    answer phone={a.phone} type={a.phone_type} company={a.company_phone}")
        print(f"    right  phone={row.phone} type={row.phone_type}")
        for line in _snippets(
            _site_pages(spec, row.domain),
            [row.last],
            [_digits(row.phone), _digits(a.phone)],
        ):
            print(line)
    print("\nby kind:")
    for kind, n in kinds.most_common():
        print(f"  {n:3d}  {kind}")
    g = figures(tally(spec.queries, answers))
    print(
        f"direct dials {g['direct_dial_coverage_n']}, phone precision {g['phone_precision_n']}, "
        f"same-request twins {g['phone_twin_answers']}, switchboard as phone "
        f"{g['switchboard_as_phone']}"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench phone_misses", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--style", choices=sorted(STYLES), default="field")
    parser.add_argument("--companies", type=int, default=48)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--with-email", action="store_true")
    args = parser.parse_args(argv)
    spec = STYLES[args.style](args.seed, args.companies, args.queries)
    answers = asyncio.run(_answers(spec, args.with_email))
    report(spec, answers)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
