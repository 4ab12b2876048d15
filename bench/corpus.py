"""Shared helpers for benchmarks over ../shared/data/real-manifests: the index and machine facts."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
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


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpu": cpu,
            "cores": os.cpu_count()}
