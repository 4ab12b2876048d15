"""On real model answers: which misses does the request reader catch, and does it fail any good answer?

    python bench/request_catch.py runs/eval/RUN [RUN ...] [--name request_catch]

For every first answer of finished ``kubedistill eval`` runs this judges the answer three ways: against the
task's own spec (what the evaluation scores), against the requirements ``read_request`` reads from the
instruction (what ``generate`` and ``serve`` hold a typed request to), and against no spec (what they held it to
before). It counts

- answers that fail the task's spec: how many of them the read spec also fails (**caught**: a user's repair loop
  would see them), and how many pass without any spec (the misses that went out as a PASS before);
- answers that pass the task's spec but fail the read spec (**false alarms**: a good answer that a user would
  see repaired or failed), each listed.

Results go to bench/results/NAME.{json,md} with the machine description.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import RESULTS, machine
from kubedistill.context.request import outline, read_request
from kubedistill.context.spec import TaskSpec
from kubedistill.inference.verdict import judge
from kubedistill.verify import Verifier, VerifyConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--name", default="request_catch")
    args = parser.parse_args()
    counts = {"answers": 0, "fail_task_spec": 0, "caught": 0, "passed_without_spec": 0,
              "caught_of_passed_without_spec": 0, "pass_task_spec": 0, "false_alarms": 0}
    cases = []
    for run in args.runs:
        config = json.loads((Path(run) / "summary.json").read_text())["config"]
        verifier = Verifier(VerifyConfig(k8s_version=config["k8s_version"], policy=config["policy"],
                                         context=config["context"]))
        for line in (Path(run) / "results.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            first = record["attempts"][0]
            gold = TaskSpec.from_dict(record["spec"]) if record.get("spec") else None
            read = read_request(record["instruction"])
            by_task = judge(first["text"], verifier, gold, first["truncated"])
            by_request = judge(first["text"], verifier, read, first["truncated"])
            by_nothing = judge(first["text"], verifier, None, first["truncated"])
            counts["answers"] += 1
            case = {"run": run, "id": record["id"], "instruction": record["instruction"],
                    "read": outline(read) if read else "", "task_rules": by_task.rules,
                    "request_rules": by_request.rules}
            if by_task.passed:
                counts["pass_task_spec"] += 1
                if not by_request.passed:
                    counts["false_alarms"] += 1
                    cases.append({**case, "kind": "false alarm"})
            else:
                counts["fail_task_spec"] += 1
                counts["caught"] += not by_request.passed
                counts["passed_without_spec"] += by_nothing.passed
                counts["caught_of_passed_without_spec"] += by_nothing.passed and not by_request.passed
                if by_request.passed:
                    cases.append({**case, "kind": "missed"})
    summary = {"runs": args.runs, **counts, "machine": machine(), "cases": cases}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{args.name}.md").write_text(report(summary), encoding="utf-8")
    print(report(summary))


def report(s: dict) -> str:
    fail = s["fail_task_spec"] or 1
    lines = [
        "# The request reader on real model answers", "",
        f"`python bench/request_catch.py {' '.join(s['runs'])}`; machine: {s['machine']}", "",
        f"- first answers judged: {s['answers']}",
        f"- failing the task's spec: {s['fail_task_spec']}; of these, {s['caught']} ({100 * s['caught'] / fail:.0f}%)"
        " also fail when held to the requirements read from the instruction (a user's repair loop sees them)",
        f"- of those, {s['passed_without_spec']} pass L1-L4 when no spec is given (their only faults are requested "
        "values or objects: before the reader, `generate` and `serve` called them a PASS); the read requirements "
        f"catch **{s['caught_of_passed_without_spec']} of {s['passed_without_spec']}**",
        f"- passing the task's spec: {s['pass_task_spec']}; **false alarms** (failed by the read requirements): "
        f"**{s['false_alarms']}**", "",
    ]
    if s["cases"]:
        lines += ["## Every false alarm and every miss the reader does not see", "",
                  "| kind | task | failing rules (task spec) | read from the instruction |", "|---|---|---|---|"]
        for case in s["cases"]:
            lines.append(f"| {case['kind']} | `{case['id']}` | {', '.join(case['task_rules']) or '-'} | "
                         f"{case['read'] or '(nothing)'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
