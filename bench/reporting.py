"""Printed and Markdown tables of the generalization benchmark's results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.scoring import figures

ROWS = (
    ("email coverage of findable", "email_coverage", "email_coverage_n"),
    ("email precision (all)", "precision", "precision_n"),
    ("precision high", "precision_high", "precision_high_n"),
    ("precision medium", "precision_medium", "precision_medium_n"),
    ("precision high+medium", "precision_high_or_medium", "precision_high_or_medium_n"),
    ("not working there: high/medium", "not_working_there_high_or_medium", None),
    ("not working there: any address", "not_working_there_any_address", None),
    ("company-only coverage (resolvable)", "company_only_coverage", "company_only_coverage_n"),
    ("company-only: domain right", "company_only_domain_right", None),
    ("direct-dial coverage (published)", "direct_dial_coverage", "direct_dial_coverage_n"),
    ("phone precision", "phone_precision", "phone_precision_n"),
    ("type right (of right numbers)", "phone_type_right", None),
    ("switchboard returned as phone", "switchboard_as_phone", None),
    ("fax/support returned as phone", "other_company_line_as_phone", None),
    ("companyPhone is the switchboard", "company_phone_right", None),
)


def _cell(f: dict[str, Any], key: str, count: str | None) -> str:
    value = f.get(key)
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.1%}" if value < 0.995 or value == 1 else f"{value:.2%}"
        return f"{text} ({f[count]})" if count else text
    return str(value)


def report(result: dict[str, Any]) -> Iterable[str]:
    held = result["held_out"]
    tune = result.get("tune")
    columns: list[tuple[str, dict[str, Any]]] = []
    if tune:
        columns += [(f"product tune s{tune['seed']}", tune["product"])]
    columns += [("product held-out", held["product"]), ("naive held-out", held["naive"])]
    if "product_jobs" in held:
        columns.insert(-1, ("product jobs held-out", held["product_jobs"]))
    for run in result["runs"]:
        if tune and run is tune["run"]:
            continue
        columns.append((f"prod s{run['seed']}", figures(run["product"]["counts"])))
        columns.append((f"naive s{run['seed']}", figures(run["naive"]["counts"])))
    width = 36
    yield (
        f"style {result['style']}, held-out seeds {result['seeds']}, "
        f"tune seed {result['tune_seed']}"
    )
    yield "| measure | " + " | ".join(name for name, _ in columns) + " |"
    yield "|---|" + "---|" * len(columns)
    for label, key, count in ROWS:
        yield f"| {label:{width}} | " + " | ".join(_cell(f, key, count) for _, f in columns) + " |"
    walls = [held["product"]["wall_seconds"], held["naive"]["wall_seconds"]]
    yield (
        f"wall (held-out, summed): product email {walls[0].get('email')} s + phone "
        f"{walls[0].get('phone')} s = {walls[0]['total']} s; naive {walls[1].get('email')} s + "
        f"{walls[1].get('phone')} s = {walls[1]['total']} s"
    )
    walls_by_seed = [
        (r["seed"], sum(r["product"]["walls"].values()), sum(r["naive"]["walls"].values()))
        for r in result["runs"]
    ]
    ratios = ", ".join(f"s{seed} {p / n:.2f}" for seed, p, n in walls_by_seed if n)
    yield f"wall product / naive per seed (the machine's load moves it): {ratios}"
    yield from costs_report(result)
    if "product_jobs" in held:
        refused = sum(r.get("jobs_rejected_rows", 0) for r in result["runs"])
        yield (
            f"bulk jobs (held-out, summed): {held['product_jobs']['wall_seconds']['total']} s; "
            f"rows the API refused (all seeds): {refused}"
        )
    yield ""
    yield "Done-when targets (held-out, product):"
    for name, t in result["targets"].items():
        mark = "n/a " if t["pass"] is None else "PASS" if t["pass"] else "FAIL"
        yield f"  {mark}  {name}: {t['value']} (target {t['target']})"
    yield ""
    yield (
        "by kind (held-out; product | naive): email found/findable, precision, high, "
        "dials, phone precision, switchboard"
    )
    for axis, groups in held["product"]["by_kind"].items():
        yield f"  {axis}:"
        for value, p in groups.items():
            n = held["naive"]["by_kind"][axis][value]
            yield (
                f"    {value:22} email {p['email_coverage_n']:>7} | {n['email_coverage_n']:>7}  "
                f"prec {p['precision_n']:>7} | {n['precision_n']:>7}  "
                f"high {p['precision_high_n']:>7}  "
                f"dials {p['direct_dial_coverage_n']:>6} | {n['direct_dial_coverage_n']:>6}  "
                f"phone prec {p['phone_precision_n']:>7} | {n['phone_precision_n']:>7}  "
                f"switchboard {p['switchboard_as_phone']} | {n['switchboard_as_phone']}"
            )


SIDES = ("product", "naive")
PASSES = ("email", "phone")


def pooled_costs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The passes' costs summed over ``runs`` (held-out seeds): per side and pass, CPU
    seconds, wall seconds and DNS questions by type; the worst p99 latency."""
    out: dict[str, Any] = {}
    for side in SIDES:
        for kind in PASSES:
            cpu = wall = p99 = 0.0
            dns: dict[str, int] = {}
            for run in runs:
                cost = run[side].get("costs", {}).get(kind)
                if not cost:
                    continue
                cpu += cost["cpu_seconds"]
                wall += run[side]["walls"].get(kind, 0.0)
                p99 = max(p99, cost["latency"]["p99"])
                for qtype, n in cost["dns"].items():
                    dns[qtype] = dns.get(qtype, 0) + n
            out.setdefault(side, {})[kind] = {
                "cpu_seconds": round(cpu, 1),
                "wall_seconds": round(wall, 1),
                "worst_p99": p99,
                "dns": dns,
            }
    return out


def _dns(questions: dict[str, int]) -> str:
    return " ".join(f"{k} {v}" for k, v in questions.items() if k != "total") + (
        f" (= {questions.get('total', 0)})"
    )


def costs_report(result: dict[str, Any]) -> Iterable[str]:
    """Where the time went, per seed and pass: CPU (product vs naive), latency percentiles,
    DNS questions by type, the slowest rows and the machine's load."""
    yield ""
    yield "costs per seed and pass (product | naive):"
    for run in result["runs"]:
        for kind in PASSES:
            p = run["product"].get("costs", {}).get(kind)
            n = run["naive"].get("costs", {}).get(kind)
            if not p or not n:
                continue
            pw, nw = run["product"]["walls"].get(kind), run["naive"]["walls"].get(kind)
            yield (
                f"  s{run['seed']} {kind:5} wall {pw} | {nw} s, cpu {p['cpu_seconds']} | "
                f"{n['cpu_seconds']} s, p50/p90/p99 {p['latency']['p50']}/"
                f"{p['latency']['p90']}/{p['latency']['p99']} | {n['latency']['p50']}/"
                f"{n['latency']['p90']}/{n['latency']['p99']} s, load {p['load']} | {n['load']}"
            )
            yield f"      dns product {_dns(p['dns'])} | naive {_dns(n['dns'])}"
            again = p.get("dns_repeated")
            if again:
                yield (
                    f"      dns product asked again {again['questions']}: "
                    + ", ".join(again["most"])
                )
            slowest = ", ".join(
                f"#{s['row']} {s['mode']}/{s.get('mail')} {s['seconds']} s" for s in p["slowest"]
            )
            yield f"      slowest product rows: {slowest}"
    pooled = result.get("costs")
    if pooled:
        for kind in PASSES:
            p, n = pooled["product"][kind], pooled["naive"][kind]
            yield (
                f"  held-out {kind:5} cpu {p['cpu_seconds']} | {n['cpu_seconds']} s of wall "
                f"{p['wall_seconds']} | {n['wall_seconds']} s; dns {_dns(p['dns'])} | "
                f"{_dns(n['dns'])}"
            )


KIND_ROWS = (
    ("mail", "strict", "strict"),
    ("mail", "catch_all_samples", "catch-all, samples on the site"),
    ("mail", "catch_all_bare", "catch-all, no samples"),
    ("mail", "greylist", "greylisting"),
    ("mail", "tarpit", "tarpit"),
    ("mail", "connection_limit", "one session at a time"),
    ("mail", "implicit_mx", "implicit MX"),
    ("mail", "dead_primary_mx", "dead primary MX"),
    ("mail", "null_mx", "null MX"),
    ("mode", "website", "website rows"),
    ("mode", "website+company", "website + company rows"),
    ("mode", "company", "company-name-only rows"),
    ("name", "namesake_middle", "namesake with middle initial (`daniel.j.moreau`)"),
    ("name", "numbered", "numbered address (`first.last2`)"),
    ("name", "namesake_plain", "the plain namesake of one of those"),
    ("name", "middle_initial", "middle initial the mailbox ignores"),
    ("name", "outsider_same_first", "not working there, same first name as staff"),
    ("layout", "cards", "layout: cards"),
    ("layout", "table", "layout: table"),
    ("layout", "dl", "layout: definition list"),
    ("layout", "jsonld", "layout: JSON-LD `Person`"),
    ("layout", "vcard", "layout: vCard downloads"),
    ("layout", "hcard", "layout: h-card"),
    ("layout", "unlisted", "person not on the site"),
    ("layout", "none", "site without a team page"),
)
"""Rows of the docs' per-kind table: (axis, value, label)."""


def _pair(p: dict[str, Any], n: dict[str, Any], key: str) -> str:
    if p[key] in ("0/0", 0) and n[key] in ("0/0", 0):
        return "–"
    return f"{p[key]} \\| {n[key]}"


def markdown(result: dict[str, Any]) -> Iterable[str]:
    """The docs' tables for a saved result: the measures (held-out product and naive, the
    tune seed) and the per-kind breakdown (held-out, product | naive)."""
    held = result["held_out"]
    product, naive = held["product"], held["naive"]
    tune = (result.get("tune") or {}).get("product")
    yield "| measure | product | naive | product, tune seed |"
    yield "|---|---|---|---|"
    for label, key, count in ROWS:
        cells = [_cell(product, key, count), _cell(naive, key, count)]
        cells.append(_cell(tune, key, count) if tune else "–")
        yield f"| {label} | " + " | ".join(cells) + " |"
    pw, nw = product["wall_seconds"], naive["wall_seconds"]
    t = result["targets"]
    yield (
        f"| wall time, e-mail + phone passes | {pw.get('email')} s + {pw.get('phone')} s | "
        f"{nw.get('email')} s + {nw.get('phone')} s | – |"
    )
    yield (
        f"| product / naive wall time (both; e-mail; phone) | {t['wall_ratio']['value']}; "
        f"{t['wall_ratio_email']['value']}; {t['wall_ratio_phone']['value']} | – | – |"
    )
    costs = result.get("costs")
    if costs:
        pc, nc = costs["product"], costs["naive"]
        yield (
            f"| process CPU, e-mail + phone passes | {pc['email']['cpu_seconds']} s + "
            f"{pc['phone']['cpu_seconds']} s | {nc['email']['cpu_seconds']} s + "
            f"{nc['phone']['cpu_seconds']} s | – |"
        )
        yield (
            f"| DNS questions, e-mail + phone passes | {_dns(pc['email']['dns'])} + "
            f"{_dns(pc['phone']['dns'])} | {_dns(nc['email']['dns'])} + "
            f"{_dns(nc['phone']['dns'])} | – |"
        )
    yield ""
    yield (
        "| kind | email found / findable | precision (all) | `high` right | direct dials found "
        "| switchboard as `phone` |"
    )
    yield "|---|---|---|---|---|---|"
    for axis, value, label in KIND_ROWS:
        p = product["by_kind"].get(axis, {}).get(value)
        n = naive["by_kind"].get(axis, {}).get(value)
        if not p or not n:
            continue
        high = p["precision_high_n"] if p["precision_high_n"] != "0/0" else "–"
        yield (
            f"| {label} | {_pair(p, n, 'email_coverage_n')} | {_pair(p, n, 'precision_n')} | "
            f"{high} | {_pair(p, n, 'direct_dial_coverage_n')} | "
            f"{_pair(p, n, 'switchboard_as_phone')} |"
        )
