"""The run's final report (``report/README.md`` with PNG plots): the corpus funnel, the training curve, full-pass@1
of the student against its own zero-shot baseline with failures by level, timings, and example generations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kubedistill.evaluation.report import headline, pct
from kubedistill.inference.verdict import FAIL_LEVELS
from kubedistill.plots import pyplot, save


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _levels_plot(path: Path, runs: dict[str, dict]) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(1, len(runs))
    for i, (name, summary) in enumerate(runs.items()):
        xs = [x + i * width for x in range(len(FAIL_LEVELS))]
        ax.bar(xs, [100 * summary["level_pass_rate"][lv] for lv in FAIL_LEVELS], width, label=name)
    ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(FAIL_LEVELS))],
                  [f"passes {lv}" for lv in FAIL_LEVELS])
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of test tasks")
    ax.legend()
    save(fig, path)


def _examples(results: Path, count: int) -> list[str]:
    if not results.exists() or count <= 0:
        return []
    cases = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    chosen = [c for c in cases if c["first"]["passed"]][: (count + 1) // 2]
    chosen += [c for c in cases if not c["first"]["passed"]][: count - len(chosen)]
    lines: list[str] = []
    for case in chosen:
        first = case["attempts"][0]
        verdict = "passed" if case["first"]["passed"] else \
            f"failed at {case['first']['failed_level']} ({', '.join(case['first']['rules'][:4])})"
        body = (first["verdict"]["manifest"] or first["text"]).strip()
        lines += [f"**{case['id']}** ({case['family']}), {verdict}", "", f"> {case['instruction']}", "",
                  "```yaml", body[:2000], "```", ""]
    return lines


def write_pipeline_report(out: Path, folder: Path, config: Any) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = _json(out / "corpus" / "stats.json")
    train = _json(out / "train" / "training_config.json")
    student = _json(out / "student" / "summary.json")
    baseline = _json(out / "baseline" / "summary.json")
    for name in ("funnel.png", "family_mix.png"):
        if (out / "corpus" / "plots" / name).exists():
            shutil.copyfile(out / "corpus" / "plots" / name, folder / name)
    if (out / "train" / "loss.png").exists():
        shutil.copyfile(out / "train" / "loss.png", folder / "loss.png")
    runs = {"student (LoRA)": student}
    if baseline:
        runs = {"base model zero-shot": baseline, **runs}
    _levels_plot(folder / "levels.png", runs)
    timings = {s: _json(out / s / "stage.json").get("seconds") for s in ("sources", "corpus", "train", "baseline",
                                                                          "student")}
    model = config.train.model
    lines = [f"# kubedistill pipeline report: {model}", "",
             "sources -> verification -> corpus -> LoRA training -> evaluation, "
             f"prompt `{config.eval.prompt}`, max_new_tokens {config.eval.max_new_tokens}, policy "
             f"`{config.eval.policy}`.", ""]
    improved = None
    if student:
        lines += [f"**Student full-pass@1: {headline(student)}**"]
        if baseline:
            improved = student["full_pass_at_1"]["rate"] > baseline["full_pass_at_1"]["rate"]
            lines += [f"**Base model zero-shot: {headline(baseline)}**", ""]
        lines += ["", "| run | full-pass@1 | " + " | ".join(f"passes {lv}" for lv in FAIL_LEVELS) + " |",
                  "|---" * (len(FAIL_LEVELS) + 2) + "|"]
        for name, summary in runs.items():
            lines.append(f"| {name} | {pct(summary['full_pass_at_1']['rate'])} | " +
                         " | ".join(pct(summary["level_pass_rate"][lv]) for lv in FAIL_LEVELS) + " |")
        lines += ["", "![pass rate by level](levels.png)", ""]
    if corpus:
        funnel = ", ".join(f"{label} {value}" for label, value in corpus.get("funnel", []))
        splits = ", ".join(f"{k} {v}" for k, v in corpus.get("splits", {}).items())
        lines += ["## Corpus", "", f"Funnel: {funnel}.", "", f"Splits: {splits}. Card: `corpus/README.md`.", "",
                  "![funnel](funnel.png)", ""]
    if train:
        final = train.get("final", {})
        lines += ["## Training", "", f"LoRA r={config.train.lora.r}, alpha={config.train.lora.alpha}, "
                  f"{final.get('step')} steps, final loss {final.get('loss')}, validation loss "
                  f"{final.get('val_loss')}, {final.get('tokens_per_second')} tokens/s at the last step.", "",
                  "![loss](loss.png)", ""]
    lines += ["## Timings", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {stage} | {seconds if seconds is not None else '-'} |" for stage, seconds in timings.items()]
    lines += ["", "## Example generations (student, first attempt)", ""]
    lines += _examples(out / "student" / "results.jsonl", config.examples)
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")
    result = {"report": str(folder / "README.md"), "timings_s": timings}
    if student:
        result["student_full_pass_at_1"] = student["full_pass_at_1"]["rate"]
    if baseline:
        result["baseline_full_pass_at_1"] = baseline["full_pass_at_1"]["rate"]
        result["student_beats_baseline"] = improved
    return result
