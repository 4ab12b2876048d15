"""Pick the pairs of a second training stage: verified pairs of the same corpus build that the first stage never
saw, the richest first (most task requirements: multi-object bundles with limits, env, references), since the
one-epoch student's misses are single dropped requirements in long bundles.

    kubedistill corpus build --config configs/corpus/default.yaml --input runs/sources/pairs.jsonl \\
        --out runs/corpus-all split.train=-1          # the same test/validation, train = every other pair
    python bench/stage2_pairs.py --all runs/corpus-all --seen runs/corpus --n 300 --out runs/corpus-stage2
    python bench/stage2_pairs.py --all runs/corpus-all --seen runs/corpus --pick memory --out runs/corpus-memory
    python bench/stage2_pairs.py --all runs/corpus-all --seen runs/corpus --pick memory --rehearsal 138 \
        --out runs/corpus-memory-rehearsal

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

from kubedistill.errors import UserError
from kubedistill.train.data import read_split


def hash_order(row: dict) -> str:
    """A fixed order of pairs that depends on nothing but their ids (the sha256 of the id)."""
    return hashlib.sha256(row["id"].encode()).hexdigest()


def requirements(spec: dict | None) -> int:
    """How many checkable requirements a task spec holds: one per object plus one per value it pins."""
    total = 0
    for obj in (spec or {}).get("objects", []):
        total += 1
        for key, value in obj.items():
            if key not in ("kind", "name", "namespace"):
                total += len(value) if isinstance(value, (dict, list)) else 1
    return total


def memory_phrasing(spec: dict | None) -> str:
    """How a task states memory: 'limit' (a limit alone: "limited to 1Gi of memory"), 'both', 'request' (a request
    alone) or '' (none). The offline teacher writes a request alone about three times as often as a limit alone, and
    the students answer a limit alone with the request-alone pattern (request X, limit 2X)."""
    kinds = set()
    for obj in (spec or {}).get("objects", []):
        limit = (obj.get("limits") or {}).get("memory")
        request = (obj.get("requests") or {}).get("memory")
        kinds.add("both" if limit and request else "limit" if limit else "request" if request else "")
    for kind in ("limit", "both", "request"):
        if kind in kinds:
            return kind
    return ""


def memory_balanced(rows: list[dict], n: int, rehearsal: int = 0) -> list[dict]:
    """Every unseen pair that states a memory limit (alone or with a request), then as many request-alone pairs
    as limit-alone ones, so the stage sees the rarer phrasing at least as often as the commoner; capped at n.
    ``rehearsal`` more pairs that state no memory, a uniform sample (sha256 order), keep the other families and
    the reverse instructions in view: without them the stage fixed limits and broke CronJobs and reverse bundles."""
    by_kind: dict[str, list[dict]] = {"limit": [], "both": [], "request": [], "": []}
    for row in sorted(rows, key=hash_order):
        by_kind[memory_phrasing(row.get("spec"))].append(row)
    chosen = by_kind["limit"] + by_kind["both"] + by_kind["request"][: len(by_kind["limit"])]
    chosen = sorted(chosen, key=hash_order)[:n] + by_kind[""][:rehearsal]
    return sorted(chosen, key=hash_order)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", required=True, type=Path, help="a corpus built with split.train=-1")
    parser.add_argument("--seen", required=True, type=Path, help="the first stage's corpus")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--pick", choices=("rich", "memory"), default="rich",
                        help="rich: most requirements first; memory: memory-limit phrasings balanced (memory_balanced)")
    parser.add_argument("--rehearsal", type=int, default=0,
                        help="with --pick memory: this many more unseen pairs that state no memory, sampled uniformly")
    args = parser.parse_args()
    try:
        pick(args)
    except (UserError, OSError) as exc:
        raise SystemExit(f"stage2_pairs: error: {exc}") from None


def pick(args: argparse.Namespace) -> None:
    """Choose the pairs and write the stage's corpus folder (train chosen, validation and test copied)."""
    for split in ("test", "validation"):
        if (args.all / "data" / f"{split}.jsonl").read_bytes() != (args.seen / "data" / f"{split}.jsonl").read_bytes():
            raise SystemExit(f"{split} splits differ between {args.all} and {args.seen}: not the same build")
    seen = {row["id"] for row in read_split(args.seen, "train")}
    unseen = [row for row in read_split(args.all, "train") if row["id"] not in seen]
    if args.pick == "memory":
        chosen = memory_balanced(unseen, args.n, args.rehearsal)
    else:
        unseen.sort(key=lambda r: (-requirements(r.get("spec")), hash_order(r)))
        chosen = unseen[: args.n]
    data = args.out / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "train.jsonl").write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n"
                                              for r in chosen), encoding="utf-8")
    for split in ("validation", "test"):
        shutil.copyfile(args.seen / "data" / f"{split}.jsonl", data / f"{split}.jsonl")
    families = Counter(row.get("family") or "" for row in chosen)
    phrasing = Counter(memory_phrasing(row.get("spec")) or "none" for row in chosen)
    print(json.dumps({"unseen": len(unseen), "chosen": len(chosen), "memory": dict(phrasing),
                      "min_requirements": min((requirements(r.get("spec")) for r in chosen), default=None),
                      "families": dict(families.most_common())}))


if __name__ == "__main__":
    main()
