"""The dataset card: counts, the rejection funnel, length distributions, config, contamination and plots.

Everything here is a pure function of the build's records and config (no clocks), so a rebuild with the same
inputs and seed writes the same bytes.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

from kubedistill.plots import pyplot, save

SPLITS = ("train", "validation", "test")
TOP_FAMILIES = 30
FUNNEL = ("input", "teacher answered", "well-formed", "passes L1", "passes L2", "passes L3", "passes L4 and spec",
          "unique", "in a split")


TASKS = ("write", "edit")
EDIT_PREFIX = "edit-"
"""Edit families (``sources/edits.py``) start with this: "change my YAML", against "write me a manifest"."""


def task_of(family: str) -> str:
    return "edit" if family.startswith(EDIT_PREFIX) else "write"


def tasks(families: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Pairs per task (write / edit) and split, from the per-family counts."""
    out: dict[str, Counter] = {task: Counter() for task in TASKS}
    for family, splits in families.items():
        out[task_of(family)].update(splits)
    return {task: {s: out[task][s] for s in SPLITS} for task in TASKS}


def funnel(counts: Counter) -> list[tuple[str, int]]:
    """Pairs left after each stage, from the rejection counts by stage/level."""
    left = counts["input"]
    rows = [("input", left)]
    for label, key in (("teacher answered", "teacher"), ("well-formed", "format"), ("passes L1", "L1"),
                       ("passes L2", "L2"), ("passes L3", "L3"), ("passes L4 and spec", "L4")):
        left -= counts[f"rejected:{key}"]
        rows.append((label, left))
    left -= counts["duplicate:exact"] + counts["duplicate:near"]
    rows.append(("unique", left))
    rows.append(("in a split", sum(counts[f"split:{s}"] for s in SPLITS)))
    return rows


def lengths(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {"min": ordered[0], "median": statistics.median(ordered), "p90": ordered[int(0.9 * (len(ordered) - 1))],
            "max": ordered[-1]}


def plots(out: Path, families: dict[str, Counter], rows: list[tuple[str, int]]) -> list[str]:
    plt = pyplot()
    out.mkdir(parents=True, exist_ok=True)
    names = sorted({f for c in families.values() for f in c}, key=lambda f: (-sum(c[f] for c in families.values()), f))
    shown, rest = names[:TOP_FAMILIES], names[TOP_FAMILIES:]
    labels = [n if len(n) <= 32 else n[:31] + "…" for n in shown] + ([f"{len(rest)} other families"] if rest else [])
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(labels) + 1.5))
    fig.subplots_adjust(left=0.33, right=0.97)
    left = [0] * len(labels)
    for split in SPLITS:
        counts = families.get(split, Counter())
        values = [counts[n] for n in shown] + ([sum(counts[n] for n in rest)] if rest else [])
        ax.barh(labels, values, left=left, label=split)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("pairs")
    ax.set_title("Family mix per split")
    ax.legend(loc="lower right")
    save(fig, out / "family_mix.png", tight=False)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    fig.subplots_adjust(left=0.22, right=0.93, bottom=0.15)
    ax.barh([r[0] for r in rows], [r[1] for r in rows], color="#4c72b0")
    for i, (_, value) in enumerate(rows):
        ax.text(value, i, f" {value}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("pairs left")
    ax.set_title("Rejection funnel")
    save(fig, out / "funnel.png", tight=False)
    return ["plots/family_mix.png", "plots/funnel.png"]


def render(summary: dict) -> str:
    front = ["---", "license: apache-2.0", "task_categories:", "- text-generation", "tags:", "- kubernetes",
             "- yaml", "configs:", "- config_name: default", "  data_files:"]
    front += [f"  - split: {s}\n    path: data/{s}.jsonl" for s in SPLITS if summary["splits"].get(s)]
    lines = [*front, "---", "", "# kubedistill corpus", "",
             "Verified (instruction, Kubernetes manifest) pairs for supervised fine-tuning, built by "
             "`kubedistill corpus build`. Every manifest passed L1 syntax, L2 API validity, L3 policy "
             f"`{summary['config']['filter']['policy']}` and L4 context `{summary['config']['filter']['context']}` "
             "plus its own task spec, and is in canonical form. Load it with "
             "`datasets.load_dataset(\"<this folder>\")`.", "",
             "## Splits", "", "| split | pairs |", "|---|---:|"]
    lines += [f"| {s} | {summary['splits'].get(s, 0)} |" for s in SPLITS]
    lines += ["", "## Rejection funnel", "", "![funnel](plots/funnel.png)", "", "| stage | pairs left |",
              "|---|---:|"]
    lines += [f"| {label} | {value} |" for label, value in summary["funnel"]]
    lines += ["", "Rejections by rule (top 15): " + (", ".join(f"{k} {v}" for k, v in summary["reject_rules"][:15])
                                                      or "none"), "",
              f"Format violations in teacher answers: {summary['format_violations'] or 'none'}", "",
              *_task_lines(summary["families"]),
              "## Families and sources", "", "![family mix](plots/family_mix.png)", "",
              "| family | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    for family in sorted(summary["families"]):
        lines.append(f"| {family} | " + " | ".join(str(summary["families"][family].get(s, 0)) for s in SPLITS) + " |")
    lines += ["", "| source | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    for source in sorted(summary["sources"]):
        lines.append(f"| {source} | " + " | ".join(str(summary["sources"][source].get(s, 0)) for s in SPLITS) + " |")
    lines += ["", "## Lengths", "", "| split | instruction words (min / median / p90 / max) | manifest lines |",
              "|---|---|---|"]
    for split in SPLITS:
        info = summary["lengths"].get(split, {})
        words, lines_ = info.get("instruction_words", {}), info.get("manifest_lines", {})
        fmt = lambda d: " / ".join(f"{d[k]:g}" for k in ("min", "median", "p90", "max")) if d else "-"  # noqa: E731
        lines.append(f"| {split} | {fmt(words)} | {fmt(lines_)} |")
    c = summary["contamination"]
    lines += ["", "## Contamination (test against train)", "",
              f"- test instructions also in train: {c['exact_instruction']}",
              f"- test manifests also in train (canonical hash): {c['exact_manifest']}",
              f"- test pairs with a near duplicate in train (MinHash >= {c['near_threshold']}): {c['near']}",
              f"- test instructions sharing a {c['ngram']}-gram with a train instruction: {c['ngram_overlap']} "
              f"of {c['test']} (templated phrasing makes this high for synthetic pairs; exact and near duplicates "
              "above are the leakage that matters)", "",
              "## How it was built", "", "Seed and config:", "", "```json",
              json.dumps(summary["config"], indent=2, sort_keys=True), "```", "",
              "Groups: pairs sharing a canonical manifest or a real source file are kept in one split; near "
              "duplicates are removed before splitting, so no cluster straddles splits.", "",
              "Sources: synthetic pairs are written by kubedistill's teachers; reverse pairs use manifests from "
              "public Apache-2.0 repositories (see each pair's `origin` for repository, path and commit). Edit pairs "
              "(families `edit-*`) hand over manifests with a change request; their spec holds the input, and the "
              "answer changes only what the request asks.", ""]
    return "\n".join(lines)


def _task_lines(families: dict[str, dict[str, int]]) -> list[str]:
    """The write/edit mix: one line with the totals, then a table per split."""
    counts = tasks(families)
    total = {task: sum(counts[task].values()) for task in TASKS}
    lines = ["## Tasks", "", f"task: write {total['write']}, edit {total['edit']}", "",
             "| task | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    lines += [f"| {task} | " + " | ".join(str(counts[task][s]) for s in SPLITS) + " |" for task in TASKS]
    return [*lines, ""]
