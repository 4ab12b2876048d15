"""Shared helpers for benchmarks over ../shared/data/real-manifests: the index and machine facts."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def real_dir() -> Path:
    env = os.environ.get("KUBEDISTILL_REAL_MANIFESTS")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "real-manifests"
    if not (path / "index.jsonl").exists():
        sys.exit(f"real-manifest corpus not found at {path}; set KUBEDISTILL_REAL_MANIFESTS")
    return path


def load_index(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines() if line.strip()]


def meant_valid(entry: dict) -> bool:
    """Files the corpus index does not mark as invalid examples, kustomize patches or placeholder templates."""
    return entry["category"] != "invalid-example" and not entry["patch_like"] and not entry["has_placeholders"]


# ru_maxrss survives exec on Linux (a child would report the benchmark's own size), so a CLI's peak is read
# from its VmHWM, which starts afresh with the new program; worker processes report through RUSAGE_CHILDREN.
_MEASURE = ("import resource, sys\n"
            "from kubedistill.__main__ import main\n"
            "rc = main(sys.argv[1:])\n"
            "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "peak = max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "print('PEAK_RSS_KB', peak, file=sys.stderr)\n"
            "sys.exit(rc)\n")


def measured_cli(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``kubedistill ARGS`` in a fresh process: (peak RSS in MB, wall seconds, the completed process)."""
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    peak = next((int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("PEAK_RSS_KB")), 0)
    return peak / 1024, elapsed, run


def write_result(name: str, data: dict, text: str) -> None:
    """bench/results/NAME.json and NAME.md, and the text on stdout."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpu": cpu,
            "cores": os.cpu_count()}
