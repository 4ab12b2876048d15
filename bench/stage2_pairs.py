"""Pick the pairs of a second training stage: verified pairs of the same corpus build that the first stage never
saw, the richest first (most task requirements: multi-object bundles with limits, env, references), since the
one-epoch student's misses are single dropped requirements in long bundles.

    kubedistill corpus build --config configs/corpus/default.yaml --input runs/sources/pairs.jsonl \\
        --out runs/corpus-all split.train=-1          # the same test/validation, train = every other pair
    python bench/stage2_pairs.py --all runs/corpus-all --seen runs/corpus --n 300 --out runs/corpus-stage2

The test and validation splits are copied unchanged (the build assigns them before train, with the same seed),
so the second stage can be evaluated on exactly the first stage's 200 test tasks; the script checks that.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

from kubedistill.train.data import read_split


def requirements(spec: dict | None) -> int:
    """How many checkable requirements a task spec holds: one per object plus one per value it pins."""
    total = 0
    for obj in (spec or {}).get("objects", []):
        total += 1
        for key, value in obj.items():
            if key not in ("kind", "name", "namespace"):
                total += len(value) if isinstance(value, (dict, list)) else 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", required=True, type=Path, help="a corpus built with split.train=-1")
    parser.add_argument("--seen", required=True, type=Path, help="the first stage's corpus")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    for split in ("test", "validation"):
        if (args.all / "data" / f"{split}.jsonl").read_bytes() != (args.seen / "data" / f"{split}.jsonl").read_bytes():
            raise SystemExit(f"{split} splits differ between {args.all} and {args.seen}: not the same build")
    seen = {row["id"] for row in read_split(args.seen, "train")}
    unseen = [row for row in read_split(args.all, "train") if row["id"] not in seen]
    unseen.sort(key=lambda r: (-requirements(r.get("spec")), hashlib.sha256(r["id"].encode()).hexdigest()))
    chosen = unseen[: args.n]
    data = args.out / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "train.jsonl").write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n"
                                              for r in chosen), encoding="utf-8")
    for split in ("validation", "test"):
        shutil.copyfile(args.seen / "data" / f"{split}.jsonl", data / f"{split}.jsonl")
    families = Counter(row.get("family") or "" for row in chosen)
    print(json.dumps({"unseen": len(unseen), "chosen": len(chosen),
                      "min_requirements": requirements(chosen[-1].get("spec")) if chosen else None,
                      "families": dict(families.most_common())}))


if __name__ == "__main__":
    main()
