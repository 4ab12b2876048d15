"""An evaluation run on the hand-written requests, by style and by kind, with the repair loop's risk.

    python bench/handwritten_eval.py runs/eval/check-qwen05-zeroshot-strict-none [--name eval_check_zeroshot]

Reads ``results.jsonl`` of a ``kubedistill eval`` run on ``bench/data/requests/{dev,check}.jsonl`` (complete or
still running: the tasks finished so far are counted, and the report says how many of the split that is) and
reports full-pass@1 at the first answer overall, by style and by kind asked for. It also counts the first answers
that meet their task's own spec but fail the requirements the request reader reads from the request: with
``--repair-spec request`` (what ``generate`` and ``serve`` do) exactly those would be sent to a repair round they
do not need, the only way a repair can turn a passing answer into a failing one. Results go to
bench/results/NAME.{json,md} with the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import REPO, machine, write_result
from kubedistill.context.request import read_request
from kubedistill.inference.verdict import judge
from kubedistill.verify import Verifier, VerifyConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    config = json.loads((args.run / "run.json").read_text())
    tasks = {row["id"]: row for row in map(json.loads, (REPO / config["split"]).read_text().splitlines())}
    results = [json.loads(line) for line in (args.run / "results.jsonl").read_text().splitlines() if line.strip()]
    verifier = Verifier(VerifyConfig(policy=config["policy"], context=config["context"]))
    groups: dict[str, Counter] = defaultdict(Counter)
    needless_repairs = []
    for row in results:
        task, passed = tasks[row["id"]], row["first"]["passed"]
        for group in ["all", f"style {task['style']}", *{f"kind {o['kind']}" for o in task["spec"]["objects"]}]:
            groups[group]["tasks"] += 1
            groups[group]["passed"] += passed
        if passed:
            read = read_request(task["instruction"])
            if read and not judge(row["attempts"][0]["text"], verifier, read).passed:
                needless_repairs.append(row["id"])
    summary = {"run": str(args.run), "config": config, "tasks_done": len(results), "tasks_in_split": len(tasks),
               "groups": {g: dict(c) for g, c in sorted(groups.items())},
               "failed_at": dict(Counter(r["first"]["failed_level"] for r in results if not r["first"]["passed"])),
               "first_answers_sent_to_a_needless_repair": needless_repairs, "machine": machine()}
    write_result(args.name or f"eval_{args.run.name}", summary, report(summary))


def report(s: dict) -> str:
    c = s["config"]
    lines = [f"# {c['model']}{' + ' + c['adapter'] if c['adapter'] else ''} on the hand-written {c['split']}", "",
             f"`python bench/handwritten_eval.py {s['run']}`; prompt {c['prompt']}, hints {c['hints']}, "
             f"{c['max_new_tokens']} tokens, temperature {c['temperature']}, backend {c['backend']}, policy "
             f"{c['policy']}; machine: {s['machine']}", "",
             f"- tasks evaluated: **{s['tasks_done']} of {s['tasks_in_split']}**; first answers failing at each level: "
             + ", ".join(f"{level} {n}" for level, n in sorted(s["failed_at"].items())),
             "- first answers that meet their task's spec but fail the requirements read from the request (a repair "
             f"held to the request would run for nothing): **{len(s['first_answers_sent_to_a_needless_repair'])}**"
             + "".join(f" `{i}`" for i in s["first_answers_sent_to_a_needless_repair"]), "",
             "| group | tasks | full-pass@1 (first answer) |", "|---|---:|---:|"]
    for group, counts in s["groups"].items():
        share = 100 * counts["passed"] / counts["tasks"]
        lines.append(f"| {group} | {counts['tasks']} | {counts['passed']} ({share:.1f}%) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
