"""Every verdict that changed between two checkouts of the verifier, over the shared real-manifest corpus.

    python bench/verdict_diff.py dump OUT.json [--policy best-practice]   # run with the checkout on PYTHONPATH
    python bench/verdict_diff.py diff BEFORE.json AFTER.json > bench/results/verdict_diff.md

Each document's verdict is its status, failed level and the set of error rules, at L1-L4 with the corpus CRDs as
schemas for its custom resources (as a user would pass them with --schema-location); the diff lists every
document whose verdict differs, so that each change of behaviour is read, not assumed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real-manifests"


def dump(out: str, policy: str) -> None:
    from kubedistill.verify import Verifier, VerifyConfig
    from kubedistill.verify.schema import CustomSchemas

    entries = [json.loads(line) for line in (REAL / "index.jsonl").read_text().splitlines()]
    custom = CustomSchemas()
    for entry in entries:
        if entry["has_crd_definition"]:
            custom.load(str(REAL / entry["file"]))
    verifier = Verifier(VerifyConfig(policy=policy, ignore_missing_schemas=True), custom=custom)
    verdicts = {}
    for entry in entries:
        for r in verifier.verify_file(str(REAL / entry["file"])):
            key = f"{entry['file']}#{r.doc}" + (f"/{r.item}" if r.item is not None else "")
            verdicts[key] = {"status": str(r.status), "level": r.failed_level, "kind": r.kind, "name": r.name,
                             "errors": sorted({f.rule for f in r.findings if f.is_error}),
                             "warnings": sorted({f.rule for f in r.findings if not f.is_error})}
    Path(out).write_text(json.dumps(verdicts, indent=0, sort_keys=True))


def diff(before_path: str, after_path: str) -> None:
    before, after = json.loads(Path(before_path).read_text()), json.loads(Path(after_path).read_text())
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    print(f"# Changed verdicts on the shared real corpus ({len(before)} -> {len(after)} documents)\n")
    print(f"{len(changed)} documents changed.\n")
    print("| document | kind/name | before | after |\n|---|---|---|---|")
    for key in changed:
        b, a = before.get(key, {}), after.get(key, {})
        what = a or b

        def show(v: dict) -> str:
            if not v:
                return "(absent)"
            rules = ", ".join(v["errors"]) or "-"
            warns = f"; warnings {', '.join(v['warnings'])}" if v["warnings"] else ""
            return f"{v['status']} {('L' + str(v['level'])) if v['level'] else ''} {rules}{warns}"
        print(f"| {key} | {what.get('kind')}/{what.get('name')} | {show(b)} | {show(a)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--policy", default="baseline")
    f = sub.add_parser("diff")
    f.add_argument("before")
    f.add_argument("after")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.policy)
    else:
        diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
