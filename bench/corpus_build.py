"""Corpus build throughput and memory on 100,000 pairs, per stage, on this machine.

    python bench/corpus_build.py [--n 100000] [--jobs 2]

Generates N offline synthetic pairs (not timed as part of the build), then:
1. per-stage rates in one process on a sample: filter (L1-L4 + spec), canonicalize, MinHash signature;
2. the whole `kubedistill corpus build` (train = all remaining pairs) in a subprocess with -j JOBS, its wall time,
   the build log's stage times, and its peak RSS (VmHWM, plus workers).
Goal from the issue: 100,000 pairs in under 3 minutes and under 2 GB on 2 cores.
Writes bench/results/corpus_build.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import machine, measured_cli, write_result
from kubedistill.corpus.canonical import canonicalize
from kubedistill.corpus.dedup import DedupConfig, signature
from kubedistill.corpus.filter import FilterConfig, process
from kubedistill.sources.run import SourcesConfig, SyntheticConfig, run_sources
from kubedistill.sources.store import read_pairs


def stage_rates(pairs: list[dict]) -> dict:
    config, dedup = FilterConfig(), DedupConfig()
    out = {}
    start = time.perf_counter()
    kept = [r for r in (process(p, config) for p in pairs) if r["status"] == "kept"]
    out["filter_and_canonicalize"] = len(pairs) / (time.perf_counter() - start)
    start = time.perf_counter()
    for p in pairs:
        canonicalize(p["manifest"])
    out["canonicalize_alone"] = len(pairs) / (time.perf_counter() - start)
    start = time.perf_counter()
    for r in kept:
        signature(r["instruction"], r["manifest"], dedup)
    out["minhash_signature"] = len(kept) / (time.perf_counter() - start)
    return {k: round(v, 1) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    result: dict = {"machine": machine(), "n": args.n, "jobs": args.jobs}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_sources(SourcesConfig(seed=0, synthetic=SyntheticConfig(n=args.n)), Path(tmp) / "src", progress=False)
        result["generate_seconds"] = round(time.perf_counter() - start, 1)
        pairs_path = Path(tmp) / "src" / "pairs.jsonl"
        sample = [p for _, p in zip(range(5000), read_pairs(pairs_path), strict=False)]
        result["stage_pairs_per_second_one_process"] = stage_rates(sample)
        out_dir = str(Path(tmp) / "corpus")
        peak, wall, run = measured_cli(["corpus", "build", "--input", str(pairs_path), "--out", out_dir,
                                        "-j", str(args.jobs), "--no-progress", "split.train=-1"])
        if run.returncode != 0:
            sys.exit(run.stderr[-2000:])
        log = json.loads((Path(tmp) / "corpus" / "build_log.json").read_text())
        stats = json.loads((Path(tmp) / "corpus" / "stats.json").read_text())
        result["build"] = {"wall_seconds": round(wall, 1), "peak_rss_mb": round(peak), "stages": log["seconds"],
                           "pairs_per_second": round(args.n / wall, 1), "funnel": stats["funnel"],
                           "splits": stats["splits"]}
    write_result("corpus_build", result, render(result))


def render(r: dict) -> str:
    b = r["build"]
    lines = ["# Corpus build: 100,000 pairs", "", f"Machine: {r['machine']}", "",
             f"`kubedistill corpus build -j {r['jobs']}` on {r['n']:,} offline synthetic pairs: "
             f"**{b['wall_seconds']} s** ({b['pairs_per_second']:,} pairs/s), peak RSS **{b['peak_rss_mb']} MB** "
             "(goal: < 180 s, < 2,048 MB).", "",
             f"Stage times (s): {b['stages']}", "",
             "Per-stage rates in one process on a 5,000-pair sample (pairs/s): "
             f"{r['stage_pairs_per_second_one_process']}", "",
             "Funnel: " + ", ".join(f"{label} {value}" for label, value in b["funnel"]), "",
             f"Splits: {b['splits']}", "", f"(Generating the input took {r['generate_seconds']} s and is not counted.)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
