"""How well ``read_request`` reads a request's requirements, measured on a built corpus.

    python bench/request_specs.py --corpus runs/corpus [--name request_specs]
    python bench/request_specs.py --handwritten dev --name request_specs_handwritten_dev

Every pair of the corpus's splits is a request with a verified answer and the task spec it was written from. For
each request this reads a spec from the text alone (``kubedistill.context.request``) and reports:

- **false failures**: verified answers that the read spec fails (each one a requirement read wrongly; the figure
  that matters, since ``generate`` and ``serve`` repair and then fail an answer for it), with every case listed;
- **recall**: the share of the task spec's requirements (kind, name, namespace, image, replicas, each port, env
  var, request, limit, ...) that the read spec states with the same value, overall and by source and family;
- requirements read that the task spec does not state (not necessarily wrong: the task spec of a reverse
  instruction is derived from the manifest and names less than its instruction says).

With ``--handwritten dev|check|all`` the requests are the hand-written set (``bench/requests_set.py``): typed the
way people write, each with a reference manifest that passes L1-L4 and its own spec; recall is then also reported
by style and by the kind each requirement is about.

The anchor is the task spec itself (what the teacher meant); without ``read_request`` a user's request is held to
no requirement at all, so its recall is 0. Results go to bench/results/NAME.{json,md} with the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import REPO, RESULTS, machine
from kubedistill.context.request import read_request
from kubedistill.context.spec import TaskSpec
from kubedistill.verify import Verifier, VerifyConfig


def requirements(spec: TaskSpec | None) -> set[tuple]:
    """A spec as flat (kind, field, value) items: one per port, env var, resource, reference, field."""
    items: set[tuple] = set()
    for obj in spec.objects if spec else []:
        for key, value in obj.to_dict().items():
            if key == "kind":
                items.add((obj.kind, "object", ""))
            elif isinstance(value, dict):
                items |= {(obj.kind, f"{key}.{k}", json.dumps(v)) for k, v in value.items()}
            elif isinstance(value, list):
                items |= {(obj.kind, key, json.dumps(v)) for v in value}
            else:
                items.add((obj.kind, key, json.dumps(value)))
    for ref in spec.existing if spec else []:
        items.add((ref.kind, "existing", ref.name or ""))
    for ref in spec.absent if spec else []:
        items.add((ref.kind, "absent", ref.name or ""))
    return items


def _spec_findings(verifier: Verifier, manifest: str, spec: TaskSpec | None) -> list:
    results = verifier.verify_text(manifest, "answer.yaml", spec=spec)
    return [f for r in results for f in r.findings if f.rule.startswith("L4-SPEC")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="runs/corpus")
    parser.add_argument("--pairs", default="", help="read this sources pairs.jsonl instead of the corpus's splits "
                        "(e.g. one written with another seed: requests the reader was not tuned on)")
    parser.add_argument("--handwritten", choices=("dev", "check", "all"), default="",
                        help="read the hand-written request set's split instead (bench/data/requests)")
    parser.add_argument("--name", default="request_specs")
    args = parser.parse_args()
    rows = []
    for split in {"dev": ("dev",), "check": ("check",), "all": ("dev", "check")}.get(args.handwritten, ()):
        path = REPO / "bench" / "data" / "requests" / f"{split}.jsonl"
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.pairs:
        for line in Path(args.pairs).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("manifest") and row.get("spec"):
                rows.append(row | {"split": "pairs"})
    for split in () if args.pairs or args.handwritten else ("train", "validation", "test"):
        path = Path(args.corpus) / "data" / f"{split}.jsonl"
        rows += [json.loads(line) | {"split": split} for line in path.read_text(encoding="utf-8").splitlines()]
    verifier = Verifier(VerifyConfig(policy="baseline", context="bundle"))
    start = time.perf_counter()
    false_failures, extra = [], Counter()
    totals: dict[str, Counter] = defaultdict(Counter)
    fields_missed, read_count = Counter(), 0
    unverified = 0
    for row in rows:
        gold_spec = TaskSpec.from_dict(row["spec"]) if row.get("spec") else None
        if (args.pairs or args.handwritten) and _spec_findings(verifier, row["manifest"], gold_spec):
            unverified += 1  # a raw pair whose answer fails its own spec says nothing about the reader
            continue
        read = read_request(row["instruction"])
        read_count += read is not None
        gold = requirements(gold_spec)
        got = requirements(read)
        found = gold & got
        groups = ["all", f"source {row['source']}", f"family {row['family'].split(':')[0]}"]
        groups += [f"style {row['style']}"] if row.get("style") else []
        for group in groups:
            totals[group]["gold"] += len(gold)
            totals[group]["found"] += len(found)
            totals[group]["requests"] += 1
        for kind in {item[0] for item in gold} if row.get("style") else ():
            totals[f"kind {kind}"]["gold"] += sum(item[0] == kind for item in gold)
            totals[f"kind {kind}"]["found"] += sum(item[0] == kind for item in found)
            totals[f"kind {kind}"]["requests"] += 1
        fields_missed.update(f"{kind} {key}" for kind, key, _ in gold - got)
        extra.update(f"{kind} {key}" for kind, key, _ in got - gold)
        if read is None:
            continue
        if spec_findings := _spec_findings(verifier, row["manifest"], read):
                false_failures.append({"id": row["id"], "split": row["split"], "source": row["source"],
                                   "instruction": row["instruction"],
                                   "findings": [f"{f.rule} {f.path}: {f.message}" for f in spec_findings]})
    seconds = time.perf_counter() - start
    summary = {
        "corpus": args.pairs or (f"handwritten:{args.handwritten}" if args.handwritten else args.corpus),
        "requests": len(rows) - unverified, "left_out_unverified": unverified,
        "read_a_spec": read_count, "false_failures": len(false_failures),
        "false_failure_rate": round(len(false_failures) / (len(rows) - unverified), 4),
        "recall": {group: round(c["found"] / c["gold"], 4) if c["gold"] else None
                   for group, c in sorted(totals.items())},
        "requirements": {group: dict(c) for group, c in sorted(totals.items())},
        "missed_by_field": dict(fields_missed.most_common()), "read_beyond_the_task_spec": dict(extra.most_common()),
        "seconds": round(seconds, 2), "machine": machine(), "cases": false_failures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{args.name}.md").write_text(report(summary), encoding="utf-8")
    print(report(summary))


def _source_flag(corpus: str) -> str:
    if corpus.startswith("handwritten:"):
        return "--handwritten " + corpus.split(":", 1)[1]
    return f"{'--pairs' if corpus.endswith('.jsonl') else '--corpus'} {corpus}"


def report(s: dict) -> str:
    lines = [
        "# Reading requirements from a request (`read_request`) on "
        + ("hand-written requests" if s["corpus"].startswith("handwritten:") else "the corpus's verified pairs"), "",
        f"`python bench/request_specs.py {_source_flag(s['corpus'])}`; "
        f"machine: {s['machine']}", "",
        f"- requests: {s['requests']:,} (raw pairs whose answer fails its own task spec left out: "
        f"{s.get('left_out_unverified', 0)}); a spec read from {s['read_a_spec']:,}; {s['seconds']} s in all",
        f"- **false failures** (a verified answer failed by the read spec): **{s['false_failures']}** "
        f"({100 * s['false_failure_rate']:.2f}%)",
        f"- **recall** of the task specs' requirements: **{100 * s['recall']['all']:.1f}%** "
        f"({s['requirements']['all']['found']:,} of {s['requirements']['all']['gold']:,}); "
        "without `read_request` a typed request is held to none (0%)", "",
        "| group | requests | requirements | recall |", "|---|---:|---:|---:|",
    ]
    for group, counts in s["requirements"].items():
        recall = s["recall"][group]
        lines.append(f"| {group} | {counts['requests']} | {counts['gold']} | "
                     f"{'-' if recall is None else f'{100 * recall:.1f}%'} |")
    lines += ["", "Missed requirements by field (most first): " + ", ".join(
        f"{k} {v}" for k, v in list(s["missed_by_field"].items())[:25]), "",
        "Read beyond the task spec (most first): " + ", ".join(
        f"{k} {v}" for k, v in list(s["read_beyond_the_task_spec"].items())[:15]), ""]
    if s["cases"]:
        lines += ["## Every false failure", ""]
        for case in s["cases"]:
            lines.append(f"- `{case['id']}` ({case['split']}, {case['source']}): {case['instruction'][:300]!r} -> "
                         + "; ".join(case["findings"]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
