"""Generalization: does LeadSonar find right e-mails and direct dials on worlds it was not tuned
on, better than a naive script, in the same run?

``./run bench generalization [--style field|classic] [--tune-seed N] [--seeds N N N]
[--companies N] [--queries N] [--quick] [--tune-only] [--jobs] [--tag TAG]
[--markdown JSON]``

For each seed, a world of the chosen style (:mod:`bench.field_world`, written from the field's
conventions; or :mod:`bench.classic_world`, the worlds written alongside the code) is served on
loopback: one DNS server (dnslib), one SMTP server per mail host (aiosmtpd), one HTTP server for
every site. Then, over fresh SMTP servers each time (greylisting state starts clean):

* **product**: the real app over HTTP (:class:`~leadsonar.testing.live.LiveServer`, SQLite in a
  temporary folder, default settings apart from loopback DNS/SMTP/HTTP ports, the prober's
  identity and the rate limit); every row sent to ``POST /api/v1/find-email`` and then to
  ``POST /api/v1/find-phone``, :data:`CONCURRENCY` requests in flight;
* **naive**: :mod:`bench.naive`, same rows, same concurrency;
* with ``--jobs``, **product jobs**: the same rows as ``POST /api/v1/enrich`` jobs on a fresh app
  (bulk jobs can wait out greylisting; rows the API refuses are counted).

The *tune* seed (default 1) is the one to look at while changing the product; the *held-out*
seeds (default 2, 3, 4) are reported pooled and one by one, and are the figures to quote.

Measures (each for product and naive; :func:`bench.scoring.tally` has the exact rules):

* *email coverage of findable*: rows whose address can be found (``Query.email_findable`` and,
  for company-name-only rows, a company whose domain the naming habits reach) answered with
  that address, over those rows;
* *email precision*: right addresses over addresses returned, for all answers and per
  confidence (``high``, ``medium``, ``high`` + ``medium``);
* *not working there given high/medium*: people who do not work at the company who got a
  ``high`` or ``medium`` address (and any address);
* *company-name-only coverage of resolvable*: the coverage above over company-name-only rows;
  and how often the domain the answer names is the company's;
* *direct-dial coverage*: rows whose person has a number published with their name (card, row,
  JSON-LD ``Person``, vCard, h-card) answered with that number in ``phone``;
* *phone precision*: right numbers over numbers returned in ``phone``;
* *switchboard returned as phone*: answers whose ``phone`` is the company's main line (the
  product's additive ``companyPhone`` is where that belongs); other company lines (fax,
  support) are counted apart;
* *wall time* of the e-mail pass and the phone pass, and product / naive;
* *costs* of each pass, to see where the time goes (:func:`bench.runs._pass`): the process's
  CPU seconds (product and naive side by side; the loopback servers run in the same process
  for both), latency percentiles per row (p50/p90/p99), the slowest rows, the DNS questions
  asked by type, and the machine's load average; per seed under ``runs[].<side>.costs`` and
  summed over the held-out seeds under ``costs``.

Results: printed, and saved to ``bench/results/generalization_<style>[_quick][_<tag>].json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench import classic_world, field_world
from bench.common import save
from bench.reporting import markdown, pooled_costs, report
from bench.runs import (
    CONCURRENCY,
    knowledge_base,
    publish,
    run_naive,
    run_product,
    run_product_jobs,
    serve_web,
)
from bench.scoring import (
    by_kind,
    count_values,
    examples,
    figures,
    pooled,
    tally,
    targets,
    verification_by_mail,
)
from bench.spec import Spec
from leadsonar.testing.dnsserver import LoopbackDns

TUNE_SEED = 1
HELD_OUT = (2, 3, 4)
COMPANIES = 48
QUERIES = 300
QUICK_COMPANIES = 12
QUICK_QUERIES = 60
STYLES: dict[str, Callable[[int, int, int], Spec]] = {
    "field": field_world.build,
    "classic": classic_world.build,
}


async def run_seed(
    style: str, seed: int, companies: int, queries: int, jobs: bool = False
) -> dict[str, Any]:
    """Build the world for ``seed``, run both sides (and the product's bulk jobs when
    ``jobs``), score them."""
    spec = STYLES[style](seed, companies, queries)
    began = time.perf_counter()
    with LoopbackDns() as zone:
        publish(spec, zone)
        async with AsyncExitStack() as stack:
            web = await serve_web(spec, stack)
            extra = await knowledge_base(spec, stack)
            product, product_walls, product_costs = await run_product(spec, zone, web, extra)
            naive, naive_walls, naive_costs = await run_naive(spec, zone, web)
            sides = [
                ("product", product, product_walls, product_costs),
                ("naive", naive, naive_walls, naive_costs),
            ]
            if jobs:
                job_answers, job_walls, rejected = await run_product_jobs(spec, zone, web, extra)
                sides.append(("product_jobs", job_answers, job_walls, {}))
    result: dict[str, Any] = {"seed": seed, "world": spec.summary}
    if jobs:
        result["jobs_rejected_rows"] = rejected
    for name, answers, walls, costs in sides:
        counts = tally(spec.queries, answers)
        result[name] = {
            "counts": counts,
            "walls": {k: round(v, 2) for k, v in walls.items()},
            "costs": costs,
            "by_kind": by_kind(spec, answers),
            "examples": examples(spec, answers),
            "verification": dict(
                sorted(
                    count_values(
                        a.verification or "none" for a in answers.values() if a.email
                    ).items()
                )
            ),
            "verification_by_mail": verification_by_mail(spec, answers),
        }
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


async def run(
    style: str,
    tune_seed: int | None,
    seeds: list[int],
    companies: int,
    queries: int,
    jobs: bool = False,
) -> dict[str, Any]:
    runs = []
    tune = None
    for seed in ([tune_seed] if tune_seed is not None else []) + seeds:
        began = time.perf_counter()
        one = await run_seed(style, seed, companies, queries, jobs)
        print(f"seed {seed}: {time.perf_counter() - began:.0f} s", flush=True)
        runs.append(one)
        if seed == tune_seed:
            tune = {"seed": seed, "run": one, "product": figures(one["product"]["counts"])}
    held_runs = [r for r in runs if r["seed"] in seeds]
    held = {"product": pooled(held_runs, "product"), "naive": pooled(held_runs, "naive")}
    if jobs:
        held["product_jobs"] = pooled(held_runs, "product_jobs")
    return {
        "style": style,
        "tune_seed": tune_seed,
        "seeds": seeds,
        "companies": companies,
        "queries": queries,
        "concurrency": CONCURRENCY,
        "held_out": held,
        "targets": targets(held["product"], held["naive"]),
        "costs": pooled_costs(held_runs),
        "tune": tune,
        "runs": runs,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="bench generalization", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--style", choices=sorted(STYLES), default="field")
    parser.add_argument("--tune-seed", type=int, default=TUNE_SEED, help="-1 to skip it")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(HELD_OUT))
    parser.add_argument("--companies", type=int, default=None, help=f"default {COMPANIES}")
    parser.add_argument(
        "--queries", type=int, default=None, help=f"rows per seed; default {QUERIES}"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_COMPANIES} companies, {QUICK_QUERIES} rows, "
        "first held-out seed only, no tune seed",
    )
    parser.add_argument("--tag", default="", help="suffix of the results file name")
    parser.add_argument(
        "--jobs",
        action="store_true",
        help="also send every row as bulk enrich jobs on a fresh app (adds ~1-2 min per seed)",
    )
    parser.add_argument(
        "--markdown", metavar="JSON", help="print the docs' tables for a saved result and stop"
    )
    parser.add_argument(
        "--tune-only",
        action="store_true",
        help="only the tune seed, for quick looks while changing the product (tag 'tune')",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        for line in markdown(json.loads(Path(args.markdown).read_text())):
            print(line)
        return
    companies = args.companies or (QUICK_COMPANIES if args.quick else COMPANIES)
    queries = args.queries or (QUICK_QUERIES if args.quick else QUERIES)
    seeds = args.seeds[:1] if args.quick else args.seeds
    tune_seed = None if args.quick or args.tune_seed < 0 else args.tune_seed
    if args.tune_only:  # the tune seed scored alone, in the held-out columns
        seeds, tune_seed, args.tag = [args.tune_seed], None, args.tag or "tune"
    if tune_seed in seeds:
        parser.error("the tune seed must not be one of the held-out seeds")
    result = asyncio.run(run(args.style, tune_seed, seeds, companies, queries, args.jobs))
    for line in report(result):
        print(line)
    if result["tune"]:
        result["tune"] = {k: v for k, v in result["tune"].items() if k != "run"}
    name = (
        f"generalization_{args.style}"
        + ("_quick" if args.quick else "")
        + (f"_{args.tag}" if args.tag else "")
    )
    print(f"saved {save(name, result)}")
