"""Evaluation reports: a Markdown page with tables and PNG plots for one run, and ``eval compare`` for a
trajectory across runs (the reference's Figures 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path

from kubedistill.errors import UserError
from kubedistill.inference.verdict import FAIL_LEVELS
from kubedistill.plots import pyplot, save


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def headline(summary: dict) -> str:
    rate = summary["full_pass_at_1"]
    low, high = rate["ci95"]
    return f"{pct(rate['rate'])} ({rate['passed']}/{rate['total']}, 95% CI {pct(low)}-{pct(high)})"


def write_report(out: Path, summary: dict, cases: list[dict]) -> None:
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    _failures_plot(plots / "failures_by_level.png", summary)
    _family_plot(plots / "pass_by_family.png", summary)
    config = summary["config"]
    lines = [
        f"# Evaluation: {config['model']}{' + ' + config['adapter'] if config['adapter'] else ''}", "",
        f"Split `{config['split']}` ({summary['cases']} tasks), prompt `{prompt_label(config)}`, backend "
        f"`{config['backend']}`, max_new_tokens {config['max_new_tokens']}, temperature {config['temperature']}, "
        f"repair rounds {config['repair']}, policy `{config['policy']}`, Kubernetes {config['k8s_version']}.", "",
        f"**full-pass@1: {headline(summary)}**", "",
    ]
    if "benchmark" in summary:
        scores = ", ".join(f"{name} {value:.3f}" for name, value in summary["benchmark"].items())
        lines += [f"{config['benchmark']} scores (mean over problems): {scores}.", ""]
    if config["repair"]:
        after = summary["after_repair"]
        lines += [f"After up to {config['repair']} repair rounds: {pct(after['rate'])} ({after['passed']}/"
                  f"{after['total']}; {summary['repair_rounds_used']} rounds used).", ""]
    lines += ["| level | passes (first answer) | failures stop here |", "|---|---|---|"]
    for level in FAIL_LEVELS:
        lines.append(f"| {level} | {pct(summary['level_pass_rate'][level])} | "
                     f"{summary['failures_by_level'][level]} |")
    if len(summary.get("by_task", {})) > 1:  # write and edit tasks apart
        lines += ["", "| task | full-pass@1 (first answer) | after repair | tasks |", "|---|---|---|---|"]
        for task, r in summary["by_task"].items():
            lines.append(f"| {task} | {pct(r['first']['rate'])} | {pct(r['after_repair']['rate'])} | "
                         f"{r['first']['total']} |")
    lines += ["", "![failures by level](plots/failures_by_level.png)", "", "## By family", "",
              "| family | pass@1 | tasks |", "|---|---|---|"]
    for family, rate in summary["by_family"].items():
        lines.append(f"| {family} | {pct(rate['rate'])} | {rate['total']} |")
    lines += ["", "![pass by family](plots/pass_by_family.png)", "", "## Most frequent failing rules", "",
              "| level rule | cases |", "|---|---|"]
    lines += [f"| {rule} | {count} |" for rule, count in list(summary["failures_by_rule"].items())[:15]]
    tokens, latency = summary["tokens"], summary["latency_s"]
    lines += ["", "## Format and speed", "",
              f"Answers with a format violation: {pct(summary['format_violation_rate'])} "
              f"({', '.join(f'{k} {v}' for k, v in summary['format_violations'].items()) or 'none'}).", "",
              f"Generated {tokens['generated']:,} tokens ({tokens['mean']:.0f} per answer, {tokens['truncated']} "
              f"truncated at max_new_tokens, {tokens.get('looped', 0)} ending in a loop); latency mean "
              f"{latency['mean']:.2f} s, p95 {latency['p95']:.2f} s; "
              f"{summary['tokens_per_second']:.1f} tokens/s; wall time {summary['wall_s']:.0f} s"
              f"{' (resumed ' + str(summary['resumed_cases']) + ' cases)' if summary['resumed_cases'] else ''}.", ""]
    failed = [c for c in cases if not c["first"]["passed"]][:3]
    if failed:
        lines += ["## Example failures", ""]
        for case in failed:
            first = case["attempts"][0]
            lines += [f"**{case['id']}** ({case['family']}): {case['instruction']}", "",
                      f"Failed at {case['first']['failed_level']}: {', '.join(case['first']['rules'])}", "",
                      "```yaml", first["verdict"]["manifest"].strip()[:1500] or first["text"][:500], "```", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def _failures_plot(path: Path, summary: dict) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    counts = [summary["failures_by_level"][lv] for lv in FAIL_LEVELS]
    ax.bar(FAIL_LEVELS, counts, color="#c0504d")
    ax.set_ylabel("failed cases")
    ax.set_title(f"failures by level (pass@1 {pct(summary['full_pass_at_1']['rate'])})")
    save(fig, path)


def _family_plot(path: Path, summary: dict) -> None:
    plt = pyplot()
    families = list(summary["by_family"])
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.28 * len(families) + 1)))
    ax.barh(families, [100 * summary["by_family"][f]["rate"] for f in families], color="#4f81bd")
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass@1 %")
    ax.invert_yaxis()
    save(fig, path)


def load_summary(run: str | Path) -> dict:
    path = Path(run) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise UserError(f"{run} holds no summary.json", "give folders written by kubedistill eval") from None
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None


def adapter_label(adapter: str) -> str:
    """The adapter as a table names it: its folder, or ``RUN/adapter`` for the ``adapter`` folder that
    ``kubedistill train`` writes inside its run (every such adapter would otherwise read just 'adapter')."""
    if not adapter:
        return "-"
    path = Path(adapter)
    return f"{path.parent.name}/{path.name}" if path.name == "adapter" and path.parent.name else path.name


def prompt_label(config: dict) -> str:
    """The prompt as a run used it: the mode or file, and ``+ checklist`` when the requests carried one."""
    return config["prompt"] + (" + checklist" if config.get("hints", "none") != "none" else "")


def compare(runs: list[str], out: str | Path | None = None) -> str:
    """A Markdown table of several runs in the given order, and a trajectory plot when ``out`` is given."""
    if not runs:
        raise UserError("eval compare needs at least one run folder")
    rows = [(str(run), load_summary(run)) for run in runs]
    lines = ["| run | model | adapter | prompt | max_new_tokens | repair | tasks | full-pass@1 | 95% CI "
             "| after repair | L1 | L2 | L3 | L4 |", "|---" * 14 + "|"]
    for run, s in rows:
        c, rate = s["config"], s["full_pass_at_1"]
        lv = s["level_pass_rate"]
        lines.append(f"| {run} | {c['model']} | {adapter_label(c['adapter'])} | {prompt_label(c)} | "
                     f"{c['max_new_tokens']} | {c['repair']} | {s['cases']} | {pct(rate['rate'])} | "
                     f"{pct(rate['ci95'][0])}-{pct(rate['ci95'][1])} | {pct(s['after_repair']['rate'])} | "
                     f"{pct(lv['L1'])} | {pct(lv['L2'])} | {pct(lv['L3'])} | {pct(lv['L4'])} |")
    table = "\n".join(lines) + "\n"
    if out:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(rows)), 3.5))
        xs = range(len(rows))
        rates = [100 * s["full_pass_at_1"]["rate"] for _, s in rows]
        lows = [r - 100 * s["full_pass_at_1"]["ci95"][0] for r, (_, s) in zip(rates, rows, strict=True)]
        highs = [100 * s["full_pass_at_1"]["ci95"][1] - r for r, (_, s) in zip(rates, rows, strict=True)]
        ax.errorbar(xs, rates, yerr=[lows, highs], fmt="o-", capsize=4)
        ax.set_xticks(list(xs), [Path(r).name for r, _ in rows], rotation=20, ha="right")
        ax.set_ylim(0, 100)
        ax.set_ylabel("full-pass@1 % (95% CI)")
        save(fig, out / "trajectory.png")
        (out / "compare.md").write_text(table + "\n![trajectory](trajectory.png)\n", encoding="utf-8")
    return table
