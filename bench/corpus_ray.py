"""Corpus build on Ray (local instance) against the single-process local engine, on the same pairs, in one run.

    python bench/corpus_ray.py [--n 300000] [--cpus 2]

Generates N offline synthetic pairs once (not timed), then runs `kubedistill corpus build` twice in fresh
processes: `--engine local -j 1` (the anchor) and `--engine ray -j CPUS` (a local Ray with CPUS workers). Reports
wall time, pairs/s, peak RSS of the driver process tree (Ray's workers and object store are separate processes:
their memory is sampled from /proc while the build runs), and checks that both builds wrote identical bytes.
Writes bench/results/corpus_ray.{json,md}.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import machine, write_result
from kubedistill.sources.run import SourcesConfig, SyntheticConfig, run_sources

OUTPUTS = ["data/train.jsonl", "data/validation.jsonl", "data/test.jsonl", "pairs.jsonl", "stats.json", "README.md"]


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> set[int]:
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _ray_pids() -> set[int]:
    """Ray's own daemons (raylet, gcs_server, workers) are not children of the driver: find them by name."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"ray" in cmd and (b"raylet" in cmd or b"gcs_server" in cmd or b"default_worker" in cmd):
                pids.add(int(entry.name))
    return pids


def measured_build(pairs: Path, out: Path, engine: str, jobs: int) -> dict:
    command = [sys.executable, "-m", "kubedistill", "corpus", "build", "--input", str(pairs), "--out", str(out),
               "--engine", engine, "-j", str(jobs), "--no-progress", "split.train=-1"]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"kb": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = {process.pid} | _descendants(process.pid) | (_ray_pids() if engine == "ray" else set())
            peak["kb"] = max(peak["kb"], sum(_rss_kb(p) for p in pids))
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, stderr = process.communicate()
    done.set()
    watcher.join()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"{engine} build failed: {stderr[-2000:]}")
    return {"wall_s": round(wall, 1), "peak_rss_mb_all_processes": round(peak["kb"] / 1024)}


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in OUTPUTS:
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--note", default="")
    parser.add_argument("--sources", default="", help="reuse this `kubedistill sources` output folder (N pairs of "
                        "seed 0) instead of generating one in a temp folder")
    args = parser.parse_args()
    result: dict = {"machine": machine(), "n": args.n, "cpus": args.cpus, "note": args.note}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        source = Path(args.sources) if args.sources else Path(tmp) / "src"
        if not (source / "pairs.jsonl").is_file():
            run_sources(SourcesConfig(seed=0, synthetic=SyntheticConfig(n=args.n)), source, progress=False)
        result["generate_s"] = round(time.perf_counter() - start, 1)
        pairs = source / "pairs.jsonl"
        with pairs.open() as handle:
            have = sum(1 for _ in handle)
        if have != args.n:
            raise SystemExit(f"{pairs} holds {have:,} pairs, not --n {args.n:,}")
        result["local"] = measured_build(pairs, Path(tmp) / "local", "local", 1)
        result["ray"] = measured_build(pairs, Path(tmp) / "ray", "ray", args.cpus)
        result["identical_outputs"] = digest(Path(tmp) / "local") == digest(Path(tmp) / "ray")
    for side in ("local", "ray"):
        result[side]["pairs_per_s"] = round(args.n / result[side]["wall_s"], 1)
    result["speedup_ray_vs_local"] = round(result["local"]["wall_s"] / result["ray"]["wall_s"], 2)
    loc, ray = result["local"], result["ray"]
    text = (f"# Corpus build on Ray (local) vs the single-process engine: {args.n:,} pairs\n\n"
            f"Machine: {result['machine']}{'; ' + args.note if args.note else ''}\n\n"
            "| engine | wall s | pairs/s | peak RSS, all processes (MB) |\n|---|---|---|---|\n"
            f"| local, 1 process (anchor) | {loc['wall_s']} | {loc['pairs_per_s']} | "
            f"{loc['peak_rss_mb_all_processes']} |\n"
            f"| Ray local, {args.cpus} CPUs | {ray['wall_s']} | {ray['pairs_per_s']} | "
            f"{ray['peak_rss_mb_all_processes']} |\n\n"
            f"Ray / local speed: {result['speedup_ray_vs_local']}x. Outputs byte-identical: "
            f"{result['identical_outputs']}. Ray's memory includes its daemons (raylet, GCS) and workers.\n")
    write_result("corpus_ray", result, text)


if __name__ == "__main__":
    main()
