"""Build a held-out probe of how tasks state memory: synthetic tasks from teacher runs with other seeds, none of
whose instructions is in the corpus, so a second stage can be screened on a failure mode without the test split.

    kubedistill sources --config configs/sources/offline.yaml --out runs/sources-seed7 seed=7
    kubedistill sources --config configs/sources/offline.yaml --out runs/sources-seed11 seed=11
    python bench/memory_probe.py --pairs runs/sources-seed7/pairs.jsonl runs/sources-seed11/pairs.jsonl \\
        --exclude runs/corpus-all runs/corpus --out runs/probe-memory.jsonl       # 30 limit, 15 both, 15 request

The test split has only 13 tasks that state a memory limit alone and the validation split 2, too few to tell a
fix from noise; the teachers' other seeds give hundreds. The file is a task file for ``kubedistill eval --split``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kubedistill.errors import UserError
from kubedistill.sources.store import read_pairs
from kubedistill.train.data import read_split
from stage2_pairs import hash_order, memory_phrasing

FIELDS = ("id", "instruction", "spec", "family", "source", "manifest")


def known_instructions(corpora: list[Path]) -> set[str]:
    """Every instruction in every split of these corpus builds: the probe must hold none of them."""
    return {row["instruction"].strip() for corpus in corpora for split in ("train", "validation", "test")
            for row in read_split(corpus, split)}


def probe(pairs: list[Path], known: set[str], counts: dict[str, int]) -> list[dict]:
    """counts[kind] synthetic tasks of each memory phrasing, in a fixed order (sha256 of the id), unseen and unique."""
    pools: dict[str, list[dict]] = {kind: [] for kind in counts}
    seen = set(known)
    for row in read_pairs(*pairs):
        instruction = str(row.get("instruction") or "").strip()
        if row.get("source") != "synthetic_direct" or row.get("error") or not row.get("spec") or instruction in seen:
            continue
        kind = memory_phrasing(row["spec"])
        if kind in pools:
            pools[kind].append(row)
            seen.add(instruction)
    chosen: list[dict] = []
    for kind, n in counts.items():
        pool = sorted(pools[kind], key=hash_order)
        if len(pool) < n:
            raise SystemExit(f"only {len(pool)} unseen tasks state memory as {kind!r}; asked for {n}")
        chosen += [{key: row.get(key) for key in FIELDS} for row in pool[:n]]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", required=True, type=Path, help="pairs.jsonl of kubedistill sources runs")
    parser.add_argument("--exclude", nargs="*", default=[], type=Path, help="corpus builds whose instructions to avoid")
    parser.add_argument("--limit", type=int, default=30, help="tasks stating a memory limit alone")
    parser.add_argument("--both", type=int, default=15, help="tasks stating a memory limit and a request")
    parser.add_argument("--request", type=int, default=15, help="tasks stating a memory request alone")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    try:
        rows = probe(args.pairs, known_instructions(args.exclude),
                     {"limit": args.limit, "both": args.both, "request": args.request})
    except (UserError, OSError) as exc:
        raise SystemExit(f"memory_probe: error: {exc}") from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    print(json.dumps({"tasks": len(rows), "memory": dict(Counter(memory_phrasing(r["spec"]) for r in rows)),
                      "families": dict(Counter(r["family"] for r in rows).most_common())}))


if __name__ == "__main__":
    main()
