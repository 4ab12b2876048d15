"""Collect finished ``kubedistill eval`` runs into bench/results/NAME/: the compare table and trajectory plot,
each run's summary, report and plots, and the wall time and peak RSS from its ``/usr/bin/time -v`` log.

    python bench/eval_runs.py --name eval_qwen05 runs/eval/qwen05-zeroshot-plain runs/eval/qwen05-zeroshot-strict \\
        runs/eval/qwen05-lora-strict [--logs runs/logs] [--note "..."]

The runs themselves are made with ``kubedistill eval`` (their commands are in each summary's config); this script
only gathers them, so the figures in the note are exactly those the runs wrote.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import RESULTS, machine
from kubedistill.evaluation.report import compare


def time_log(path: Path) -> dict:
    if not path.exists():
        return {}
    text = path.read_text(errors="replace")
    out = {}
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if wall:
        parts = [float(p) for p in wall.group(1).split(":")]
        out["wall_s"] = round(sum(p * 60 ** i for i, p in enumerate(reversed(parts))), 1)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if rss:
        out["peak_rss_mb"] = round(int(rss.group(1)) / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--name", required=True)
    parser.add_argument("--logs", default="runs/logs")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    dest = RESULTS / args.name
    dest.mkdir(parents=True, exist_ok=True)
    table = compare(args.runs, dest)
    rows = []
    for run in args.runs:
        run = Path(run)
        target = dest / run.name
        target.mkdir(exist_ok=True)
        for name in ("summary.json", "report.md"):
            shutil.copyfile(run / name, target / name)
        if (run / "plots").is_dir():
            shutil.copytree(run / "plots", target / "plots", dirs_exist_ok=True)
        summary = json.loads((run / "summary.json").read_text())
        timing = time_log(Path(args.logs) / f"eval-{run.name}.log")
        rows.append({"run": run.name, "cases": summary["cases"], "full_pass_at_1": summary["full_pass_at_1"],
                     "after_repair": summary["after_repair"], "tokens_per_second": summary["tokens_per_second"],
                     "eval_wall_s": summary["wall_s"], **timing})
    lines = [f"# Evaluation runs: {args.name}", "", f"Machine: {machine()}{'; ' + args.note if args.note else ''}",
             "", table, "![trajectory](trajectory.png)", "", "| run | tasks | tokens/s | wall s | peak RSS MB |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['run']} | {r['cases']} | {r['tokens_per_second']:.1f} | {r.get('wall_s', r['eval_wall_s'])} | "
              f"{r.get('peak_rss_mb', '-')} |" for r in rows]
    (dest / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (dest / "runs.json").write_text(json.dumps({"machine": machine(), "note": args.note, "runs": rows}, indent=2)
                                    + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
