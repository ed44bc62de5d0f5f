"""Scoring of the generalization benchmark: integer tallies per row set (summable across seeds),
the measures made from them, breakdowns per kind, failure examples and issue 8's targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench.spec import Query, Spec, phone_key

KIND_AXES = ("mail", "mode", "name", "layout", "tld", "region")

TARGETS = {
    "company_only_coverage": (0.95, ">="),
    "phone_precision": (0.98, ">="),
    "switchboard_as_phone": (0, "=="),
    "direct_dial_coverage": (0.95, ">="),
    "precision_high": (0.995, ">="),
    "precision_high_or_medium": (0.97, ">="),
    "not_working_there_high_or_medium": (0, "=="),
    "wall_ratio": (1.5, "<="),
    "wall_ratio_email": (1.5, "<="),
    "wall_ratio_phone": (1.5, "<="),
}
"""Issue 8's "Done when" figures."""


@dataclass
class Answer:
    """What one side said for one row (``None`` fields: no answer)."""

    email: str | None = None
    confidence: str | None = None
    verification: str | None = None
    email_domain: str | None = None
    phone: str | None = None
    phone_type: str | None = None
    company_phone: str | None = None
    phone_domain: str | None = None
    status: int = 200


def reachable(row: Query) -> bool:
    """A row whose company can be reached: it gives a website, or its name resolves by habit."""
    return row.kinds["mode"] != "company" or row.resolvable


def tally(rows: Iterable[Query], answers: dict[int, Answer]) -> dict[str, int]:
    """Integer counts for ``rows`` (summable across seeds); :func:`figures` makes ratios."""
    c: dict[str, int] = defaultdict(int)
    for row in rows:
        a = answers.get(row.index) or Answer()
        if row.ask_email:
            c["email_rows"] += 1
            email = (a.email or "").lower()
            right = bool(email) and email == (row.email or "").lower()
            findable = bool(row.email_findable) and reachable(row)
            c["findable"] += findable
            c["found"] += findable and right
            if email:
                c["answers"] += 1
                c["right"] += right
                level = a.confidence or "none"
                c[f"answers_{level}"] += 1
                c[f"right_{level}"] += right
                if not row.employee:
                    c["outsider_answered"] += 1
                    c["outsider_high_medium"] += level in ("high", "medium")
            if not row.employee:
                c["outsiders"] += 1
            if row.kinds["mode"] == "company" and row.resolvable:
                c["company_rows"] += 1
                c["company_domain_right"] += (a.email_domain or "").lower() == row.domain
                if row.email_findable:
                    c["company_findable"] += 1
                    c["company_found"] += right
        if row.ask_phone:
            c["phone_rows"] += 1
            region = row.kinds.get("region")
            got = phone_key(a.phone, region)
            own = phone_key(row.phone, region)
            if own and row.employee and reachable(row):
                c["published"] += 1
                c["dial_found"] += got == own
            twin = got is not None and got != own and got in row.phone_twin
            c["phone_twin_answers"] += bool(a.phone) and twin
            if a.phone and not twin:
                c["phone_answers"] += 1
                c["phone_right"] += bool(own) and got == own
                c["phone_type_right"] += bool(own) and got == own and a.phone_type == row.phone_type
                c["switchboard_as_phone"] += got is not None and got == row.switchboard
                c["other_line_as_phone"] += (
                    got is not None and got != row.switchboard and got in row.company_lines
                )
            if a.company_phone:
                c["company_phone_answers"] += 1
                c["company_phone_right"] += phone_key(a.company_phone, region) == row.switchboard
    return dict(c)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(c: dict[str, int]) -> dict[str, Any]:
    """The measures from a :func:`tally`."""
    g = defaultdict(int, c)
    hm_answers = g["answers_high"] + g["answers_medium"]
    hm_right = g["right_high"] + g["right_medium"]
    return {
        "email_coverage": _ratio(g["found"], g["findable"]),
        "email_coverage_n": f"{g['found']}/{g['findable']}",
        "precision": _ratio(g["right"], g["answers"]),
        "precision_n": f"{g['right']}/{g['answers']}",
        "precision_high": _ratio(g["right_high"], g["answers_high"]),
        "precision_high_n": f"{g['right_high']}/{g['answers_high']}",
        "precision_medium": _ratio(g["right_medium"], g["answers_medium"]),
        "precision_medium_n": f"{g['right_medium']}/{g['answers_medium']}",
        "precision_high_or_medium": _ratio(hm_right, hm_answers),
        "precision_high_or_medium_n": f"{hm_right}/{hm_answers}",
        "precision_low": _ratio(g["right_low"], g["answers_low"]),
        "not_working_there_high_or_medium": g["outsider_high_medium"],
        "not_working_there_any_address": g["outsider_answered"],
        "not_working_there_rows": g["outsiders"],
        "company_only_coverage": _ratio(g["company_found"], g["company_findable"]),
        "company_only_coverage_n": f"{g['company_found']}/{g['company_findable']}",
        "company_only_domain_right": _ratio(g["company_domain_right"], g["company_rows"]),
        "direct_dial_coverage": _ratio(g["dial_found"], g["published"]),
        "direct_dial_coverage_n": f"{g['dial_found']}/{g['published']}",
        "phone_precision": _ratio(g["phone_right"], g["phone_answers"]),
        "phone_precision_n": f"{g['phone_right']}/{g['phone_answers']}",
        "phone_type_right": _ratio(g["phone_type_right"], g["phone_right"]),
        "switchboard_as_phone": g["switchboard_as_phone"],
        "other_company_line_as_phone": g["other_line_as_phone"],
        "phone_twin_answers": g["phone_twin_answers"],
        "company_phone_right": _ratio(g["company_phone_right"], g["company_phone_answers"]),
        "counts": dict(c),
    }


def by_kind(spec: Spec, answers: dict[int, Answer]) -> dict[str, dict[str, dict[str, int]]]:
    """Tallies per value of each breakdown axis (:data:`KIND_AXES`)."""
    result: dict[str, dict[str, dict[str, int]]] = {}
    for axis in KIND_AXES:
        groups: dict[str, list[Query]] = defaultdict(list)
        for row in spec.queries:
            groups[row.kinds.get(axis, "-")].append(row)
        result[axis] = {value: tally(rows, answers) for value, rows in sorted(groups.items())}
    return result


def _add(into: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value


def examples(spec: Spec, answers: dict[int, Answer], limit: int = 10) -> dict[str, list[Any]]:
    """Up to ``limit`` rows of each failure kind, for reading: wrong ``high``/``medium``
    e-mails, wrong phones, findable e-mails missed, published direct dials missed."""
    out: dict[str, list[Any]] = defaultdict(list)
    for row in spec.queries:
        a = answers.get(row.index) or Answer()
        region = row.kinds.get("region")
        email_right = bool(a.email) and (a.email or "").lower() == (row.email or "").lower()
        got = phone_key(a.phone, region)
        phone_right = bool(a.phone) and got == phone_key(row.phone, region)
        twin = not phone_right and got in row.phone_twin
        found = {
            "wrong_email_high_medium": a.email
            and not email_right
            and a.confidence in ("high", "medium"),
            "wrong_phone": a.phone and not phone_right and not twin,
            "missed_email": row.ask_email
            and row.email_findable
            and reachable(row)
            and not email_right,
            "missed_dial": row.ask_phone
            and row.phone
            and row.employee
            and reachable(row)
            and not phone_right,
        }
        for kind, hit in found.items():
            if hit and len(out[kind]) < limit:
                out[kind].append(
                    {
                        "row": f"{row.first} {row.last}",
                        "website": row.website,
                        "company": row.company,
                        "domain": row.domain,
                        "kinds": row.kinds,
                        "employee": row.employee,
                        "email": [a.email, a.confidence, a.verification, row.email],
                        "phone": [a.phone, a.phone_type, a.company_phone, row.phone],
                    }
                )
    return dict(out)


def verification_by_mail(spec: Spec, answers: dict[int, Answer]) -> dict[str, dict[str, int]]:
    """``{mail kind: {"<verification>/<confidence or none>": rows}}`` over find-email rows,
    answered or not (a greylisted lookup may answer no address and say why)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in spec.queries:
        if not row.ask_email:
            continue
        a = answers.get(row.index) or Answer()
        out[row.kinds["mail"]][f"{a.verification or 'none'}/{a.confidence or 'none'}"] += 1
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(out.items())}


def count_values(values: Iterable[str]) -> dict[str, int]:
    """How many times each value occurs."""
    out: dict[str, int] = defaultdict(int)
    for value in values:
        out[value] += 1
    return dict(out)


def pooled(runs: list[dict[str, Any]], side: str) -> dict[str, Any]:
    """Figures of several seeds' runs pooled (counts summed), with summed wall times."""
    counts: dict[str, int] = {}
    walls: dict[str, float] = defaultdict(float)
    kinds: dict[str, dict[str, dict[str, int]]] = {}
    for run in runs:
        _add(counts, run[side]["counts"])
        for k, v in run[side]["walls"].items():
            walls[k] += v
        for axis, groups in run[side]["by_kind"].items():
            for value, tallies in groups.items():
                _add(kinds.setdefault(axis, {}).setdefault(value, {}), tallies)
    out = figures(counts)
    out["wall_seconds"] = {k: round(v, 1) for k, v in walls.items()} | {
        "total": round(sum(walls.values()), 1)
    }
    out["by_kind"] = {
        axis: {value: _brief(figures(t)) for value, t in groups.items()}
        for axis, groups in kinds.items()
    }
    return out


def _brief(f: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "email_coverage_n",
        "precision_n",
        "precision_high_n",
        "precision_high_or_medium_n",
        "not_working_there_high_or_medium",
        "direct_dial_coverage_n",
        "phone_precision_n",
        "switchboard_as_phone",
    )
    return {k: f[k] for k in keys}


def targets(product: dict[str, Any], naive: dict[str, Any]) -> dict[str, Any]:
    """Issue 8's targets (:data:`TARGETS`) with the product's held-out value and pass/fail
    (``None``: the world has no rows of that kind)."""

    def ratio(key: str) -> float | None:
        mine, theirs = product["wall_seconds"].get(key), naive["wall_seconds"].get(key)
        return round(mine / theirs, 2) if mine is not None and theirs else None

    values = {name: product.get(name) for name in TARGETS} | {
        "wall_ratio": ratio("total"),
        "wall_ratio_email": ratio("email"),
        "wall_ratio_phone": ratio("phone"),
    }
    result = {}
    for name, (goal, op) in TARGETS.items():
        value = values[name]
        ok = None  # no rows of that kind in this world
        if value is not None:
            ok = value >= goal if op == ">=" else value <= goal if op == "<=" else value == goal
        result[name] = {"target": f"{op} {goal}", "value": value, "pass": ok}
    return result
