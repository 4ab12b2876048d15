"""Verifier throughput against its anchors, side by side in one run, on the shared real-manifest corpus.

    python bench/verify_throughput.py [--sample-every 8] [--checkov PATH] [--big-docs 100000]

Anchors: kubernetes-validate (pure-Python L2 schema check, run as its CLI does: parse the file, validate each
resource) and checkov's Kubernetes runner (L3 anchor, run as a subprocess on the same files). Both anchors are
slow, so they and we are timed on the same deterministic sample of files; we are also timed on the whole corpus.
Memory: peak RSS of `kubedistill validate` on a single 100,000-document stream and on the same documents spread
over many files. Writes bench/results/verify_throughput.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_index, machine, measured_cli, real_dir, write_result
from kubedistill.verify import Verifier, VerifyConfig, verify_paths


def time_ours(files: list[str], config: VerifyConfig, jobs: int, repeat: int) -> tuple[float, int, list[float]]:
    """Median wall time of ``repeat`` runs: ours take under a second, where one scheduler hiccup moves the figure by
    a tenth; the anchors' half-minute runs average such noise out on their own."""
    times, docs = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        docs = sum(sum(r.status != "empty" for r in batch) for batch in verify_paths(files, config, jobs))
        times.append(time.perf_counter() - start)
    return statistics.median(times), docs, times


def time_kubernetes_validate(files: list[str], version: str) -> tuple[float, int]:
    import kubernetes_validate.utils as kv

    start = time.perf_counter()
    docs = 0
    for path in files:
        try:
            resources = kv.resources_from_file(path)
        except SystemExit:
            continue
        for res in resources:
            docs += 1
            with contextlib.suppress(Exception):  # the anchor's verdicts are not compared, only its speed
                kv.validate(res, version, strict=True)
    return time.perf_counter() - start, docs


def time_kubernetes_validate_cli(files: list[str], version: str) -> tuple[float, int]:
    """The anchor as users run it: its CLI, one process for all files, strict mode."""
    exe = shutil.which("kubernetes-validate")
    if exe is None:
        return 0.0, 0
    start = time.perf_counter()
    run = subprocess.run([exe, "--strict", "--quiet", "--kubernetes-version", version, *files], capture_output=True,
                         text=True)
    elapsed = time.perf_counter() - start
    return elapsed, len([line for line in run.stdout.splitlines() if line.startswith(("ERROR", "WARN", "INFO"))])


def time_checkov(checkov: str, files: list[str]) -> dict | None:
    if not checkov or not shutil.which(checkov):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(files):
            shutil.copy(path, Path(tmp) / f"{i:05d}-{Path(path).name}")
        start = time.perf_counter()
        run = subprocess.run([checkov, "-d", tmp, "--framework", "kubernetes", "-o", "json", "--quiet",
                              "--skip-download"], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    try:
        payload = json.loads(run.stdout)
    except json.JSONDecodeError:
        return {"error": run.stderr[-500:]}
    payload = payload if isinstance(payload, list) else [payload]
    resources = sum(p.get("summary", {}).get("resource_count", 0) for p in payload if isinstance(p, dict))
    return {"seconds": elapsed, "resources": resources, "per_second": resources / elapsed if elapsed else 0}


def peak_rss_mb(args: list[str]) -> tuple[float, float, int]:
    """Peak RSS (MB, the largest of the CLI process and its workers) and wall time of one validate run."""
    peak, elapsed, run = measured_cli(["validate", *args])
    return peak, elapsed, run.returncode


def big_inputs(root: Path, index: list[dict], total: int, tmp: Path) -> tuple[Path, Path]:
    texts = [(root / e["file"]).read_text() for e in index if e["category"] != "invalid-example"]
    single = tmp / "big.yaml"
    many = tmp / "many"
    many.mkdir()
    written = 0
    with single.open("w") as out:
        chunk: list[str] = []
        i = 0
        while written < total:
            text = texts[i % len(texts)]
            n = text.count("\n---") + 1
            out.write(text if text.endswith("\n") else text + "\n")
            out.write("---\n")
            chunk.append(text)
            written += n
            i += 1
            if len(chunk) == 200:
                (many / f"part-{i:06d}.yaml").write_text("\n---\n".join(chunk))
                chunk = []
        if chunk:
            (many / f"part-{i:06d}.yaml").write_text("\n---\n".join(chunk))
    return single, many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample-every", type=int, default=1,
                        help="anchor sample: every Nth file of the index (1: the whole corpus)")
    parser.add_argument("--checkov", default=os.environ.get("CHECKOV", "checkov"), help="checkov executable")
    parser.add_argument("--big-docs", type=int, default=100_000, help="documents in the memory test stream")
    parser.add_argument("--version", default="1.33")
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours per configuration; the median counts")
    args = parser.parse_args()

    root = real_dir()
    index = load_index(root)
    all_files = [str(root / e["file"]) for e in index]
    sample = all_files[:: args.sample_every]
    l12 = VerifyConfig(k8s_version=args.version, levels=(1, 2), ignore_missing_schemas=True)
    full = VerifyConfig(k8s_version=args.version, policy="best-practice", ignore_missing_schemas=True)
    Verifier(l12)  # load and index the schemas once, outside the timings (both sides start warm)

    out: dict = {"machine": machine(), "corpus_files": len(all_files), "sample_files": len(sample),
                 "repeat": args.repeat}
    kv_s, kv_docs = time_kubernetes_validate(sample, args.version)
    out["kubernetes_validate"] = {"seconds": kv_s, "docs": kv_docs, "per_second": kv_docs / kv_s}
    cli_s, _ = time_kubernetes_validate_cli(sample, args.version)
    if cli_s:
        out["kubernetes_validate_cli"] = {"seconds": cli_s, "docs": kv_docs, "per_second": kv_docs / cli_s}
    for name, config in (("ours_l1_l2", l12), ("ours_l1_l4", full)):
        for jobs in (1, 2):
            s, docs, runs = time_ours(sample, config, jobs, args.repeat)
            out[f"{name}_sample_j{jobs}"] = {"seconds": s, "docs": docs, "per_second": docs / s, "runs_s": runs}
            if len(sample) < len(all_files):
                s, docs, runs = time_ours(all_files, config, jobs, args.repeat)
                out[f"{name}_corpus_j{jobs}"] = {"seconds": s, "docs": docs, "per_second": docs / s, "runs_s": runs}
    out["checkov"] = time_checkov(args.checkov, sample)

    best12 = max(out[f"ours_l1_l2_sample_j{j}"]["per_second"] for j in (1, 2))
    best14 = max(out[f"ours_l1_l4_sample_j{j}"]["per_second"] for j in (1, 2))
    out["ratio_l1_l2_vs_kubernetes_validate"] = best12 / out["kubernetes_validate"]["per_second"]
    if out["checkov"] and out["checkov"].get("per_second"):
        out["ratio_l1_l4_vs_checkov"] = best14 / out["checkov"]["per_second"]

    with tempfile.TemporaryDirectory() as tmp:
        single, many = big_inputs(root, index, args.big_docs, Path(tmp))
        for label, target, extra in (("stream_one_file", single, []), ("many_files_j2", many, ["-j", "2"])):
            rss, seconds, rc = peak_rss_mb([str(target), "--ignore-missing-schemas", "-o", "json", "--summary",
                                            *extra])
            out[f"memory_{label}"] = {"peak_rss_mb": rss, "seconds": seconds, "exit_code": rc,
                                      "docs_requested": args.big_docs}

    write_result("verify_throughput", out, render(out))


def render(out: dict) -> str:
    lines = ["# Verifier throughput", "", f"Machine: {out['machine']}", "",
             f"Sample: every file of {out['sample_files']} (of {out['corpus_files']}) from the shared real-manifest "
             "corpus; anchors and ours on the same sample in one run. Ours: the median of "
             f"{out.get('repeat', 1)} runs each (all runs in the JSON); anchors: one run each.", "",
             "| run | docs | seconds | docs/s |", "|---|---:|---:|---:|"]
    for key, value in out.items():
        if isinstance(value, dict) and "per_second" in value:
            docs = value.get("docs", value.get("resources"))
            lines.append(f"| {key} | {docs} | {value['seconds']:.2f} | {value['per_second']:.0f} |")
    lines += ["", f"L1+L2 vs kubernetes-validate: **{out['ratio_l1_l2_vs_kubernetes_validate']:.0f}x**"]
    if "ratio_l1_l4_vs_checkov" in out:
        lines.append(f"L1-L4 (best-practice) vs checkov: **{out['ratio_l1_l4_vs_checkov']:.0f}x**")
    for key in ("memory_stream_one_file", "memory_many_files_j2"):
        if key in out:
            m = out[key]
            lines.append(f"{key}: {m['docs_requested']:,} documents, peak RSS {m['peak_rss_mb']:.0f} MB, "
                         f"{m['seconds']:.1f} s, exit {m['exit_code']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
