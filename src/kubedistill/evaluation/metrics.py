"""Metrics over evaluated cases: full-pass@1 with a Wilson 95% interval, pass rate at each level, failures by
level, rule and family, format violations, tokens and speed, and pass@1 before and after repair."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from statistics import mean, median

from kubedistill.inference.verdict import FAIL_LEVELS


def wilson(passed: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval: sound at 0% and 100% and for small samples, unlike the normal approximation."""
    if total == 0:
        return 0.0, 0.0
    p = passed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(passed: int, total: int) -> dict:
    low, high = wilson(passed, total)
    return {"passed": passed, "total": total, "rate": passed / total if total else 0.0, "ci95": [low, high]}


def level_pass_rates(failed_levels: list[str | None]) -> dict[str, float]:
    """Share of cases that get through each level: 'L2' = passed format, L1 and L2."""
    total = len(failed_levels) or 1
    rates = {}
    for depth, level in enumerate(FAIL_LEVELS):
        blocked = set(FAIL_LEVELS[: depth + 1])
        rates[level] = sum(1 for f in failed_levels if f not in blocked) / total
    return rates


def task_of(case: dict) -> str:
    """``edit`` for a task that hands the model manifests to change (family ``edit*``), else ``write``."""
    return "edit" if str(case.get("family") or "").startswith("edit") else "write"


def by_task(cases: list[dict]) -> dict:
    """Full-pass@1 at the first answer and after repair, for write and edit tasks apart: an edit starts from the
    user's manifests, so the two are different skills and one must not hide the other."""
    out = {}
    for task in ("write", "edit"):
        group = [c for c in cases if task_of(c) == task]
        if group:
            out[task] = {"first": _rate(sum(1 for c in group if c["first"]["passed"]), len(group)),
                         "after_repair": _rate(sum(1 for c in group if c["passed"]), len(group))}
    return out


def summarize(cases: list[dict]) -> dict:
    """The summary of one run from its case records (see ``evaluation.run.case_record``)."""
    n = len(cases)
    final = [c["failed_level"] for c in cases]
    first = [c["first"]["failed_level"] for c in cases]
    by_family: dict[str, list[int]] = defaultdict(list)
    rules: Counter = Counter()
    for case in cases:
        by_family[case.get("family") or "(none)"].append(int(case["passed"]))
        rules.update(f"{case['failed_level']} {r}" for r in case["rules"])
    attempts = [a for c in cases for a in c["attempts"]]
    tokens = [a["tokens"] for a in attempts]
    seconds = [a["seconds"] for a in attempts]
    violations: Counter = Counter(v for c in cases for v in set(c["first"]["format_violations"]))
    return {
        "cases": n,
        "full_pass_at_1": _rate(sum(1 for c in cases if c["first"]["passed"]), n),
        "after_repair": _rate(sum(1 for c in cases if c["passed"]), n),
        "repair_rounds_used": sum(len(c["attempts"]) - 1 for c in cases),
        "level_pass_rate": level_pass_rates(first),
        "level_pass_rate_after_repair": level_pass_rates(final),
        "failures_by_level": {lv: first.count(lv) for lv in FAIL_LEVELS},
        "failures_by_level_after_repair": {lv: final.count(lv) for lv in FAIL_LEVELS},
        "failures_by_rule": dict(rules.most_common()),
        "by_family": {f: _rate(sum(v), len(v)) for f, v in sorted(by_family.items())},
        "by_task": by_task(cases),
        "format_violations": dict(sorted(violations.items())),
        "format_violation_rate": sum(1 for c in cases if c["first"]["format_violations"]) / n if n else 0.0,
        "tokens": {"generated": sum(tokens), "mean": mean(tokens) if tokens else 0,
                   "truncated": sum(1 for a in attempts if a["truncated"]),
                   "looped": sum(1 for a in attempts if a.get("looped"))},
        "latency_s": {"mean": mean(seconds) if seconds else 0, "median": median(seconds) if seconds else 0,
                      "p95": sorted(seconds)[int(0.95 * (len(seconds) - 1))] if seconds else 0,
                      "total": sum(seconds)},
        "tokens_per_second": sum(tokens) / sum(seconds) if sum(seconds) > 0 else 0.0,
    }
