"""Verifier throughput against its anchors, side by side in one run, on the shared real-manifest corpus.

    python bench/verify_throughput.py [--checkov PATH] [--copies 10] [--cli-repeat 5] [--kubeconform PATH]

Two ways of timing, both written to bench/results/verify_throughput.{json,md}:

1. As users run it: a fresh ``kubedistill validate`` process writing its findings (``-o json`` into a file), over
   the built-in-kind files of the corpus (no custom resource, no CRD) copied ``--copies`` times, default jobs.
   Anchors on the same files in the same run, as CLIs with their output: ``kubernetes-validate`` (strict) and
   checkov's Kubernetes runner (``-o json``); kubernetes-validate also in process; kubeconform (``-n 2``, with
   the schemas kubernetes-validate ships, laid out as ``-schema-location`` expects) when ``--kubeconform`` names
   its executable. Ours: the median of ``--cli-repeat`` runs, each a new process; anchors: one run each.
2. In process: ``verify_paths`` over the whole corpus, the median of ``--repeat`` runs (schemas compiled and
   caches warm after the first), against kubernetes-validate in process and as a CLI, and checkov.

Memory: peak RSS of ``kubedistill validate`` on a single 100,000-document stream and on the same documents spread
over many files.
"""

from __future__ import annotations

import argparse
import compileall
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

import kubedistill

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
        return time_checkov_dir(checkov, Path(tmp))


def time_checkov_dir(checkov: str, directory: Path) -> dict | None:
    """checkov's Kubernetes runner over a folder, its JSON report read from the pipe; resources as it counts them."""
    if not checkov or not shutil.which(checkov):
        return None
    start = time.perf_counter()
    run = subprocess.run([checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet",
                          "--skip-download"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    try:
        payload = json.loads(run.stdout)
    except json.JSONDecodeError:
        return {"error": run.stderr[-500:]}
    payload = payload if isinstance(payload, list) else [payload]
    resources = sum(p.get("summary", {}).get("resource_count", 0) for p in payload if isinstance(p, dict))
    return {"seconds": elapsed, "resources": resources, "per_second": resources / elapsed if elapsed else 0}


# --- as users run it: fresh CLI processes writing their output -------------------------------------------------


def builtin_kind_files(root: Path, index: list[dict]) -> list[Path]:
    """Files of the corpus with only built-in kinds: no custom resource and no CRD (index.jsonl says which)."""
    return [root / e["file"] for e in index if not e["custom_kinds"] and not e["has_crd_definition"]]


def copied(files: list[Path], copies: int, dest: Path) -> Path:
    """``dest/copyNN/NNNNN-name``: the files ``copies`` times over, so that start-up costs weigh as on a big repo."""
    for copy in range(copies):
        folder = dest / f"copy{copy:02d}"
        folder.mkdir(parents=True)
        for i, path in enumerate(files):
            shutil.copy(path, folder / f"{i:05d}-{path.name}")
    return dest


def kubedistill_command() -> list[str]:
    """The ``kubedistill`` console script beside this Python (as installed), else ``python -m kubedistill``."""
    script = Path(sys.executable).parent / "kubedistill"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kubedistill"]


def compile_bytecode() -> None:
    """Write kubedistill's bytecode, as ``pip install`` does: a checkout run with PYTHONDONTWRITEBYTECODE would
    otherwise compile every module at every start, which an installed copy never does."""
    compileall.compile_dir(str(Path(kubedistill.__file__).parent), quiet=1)


def wait_quiet(limit_s: float = 90, below: float = 1.0) -> float:
    """Wait (up to ``limit_s``) until the 1-minute load average is under ``below``: these cores are shared, and
    a few seconds of ours on two processes lose half their speed to one other busy process, where the anchors'
    minutes on one process barely notice it. Returns the load average it went on with."""
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def time_ours_cli(folder: Path, flags: list[str], repeat: int, out_dir: Path) -> dict:
    """``repeat`` fresh ``kubedistill validate FOLDER FLAGS -o json`` processes, the report written to a file,
    each started on a quiet machine (``wait_quiet``); documents counted from the report (all but the empty ones)."""
    runs, loads, docs, code = [], [], 0, None
    for i in range(repeat):
        loads.append(wait_quiet())
        report = out_dir / f"ours-{i}.json"
        with report.open("w") as out:
            start = time.perf_counter()
            run = subprocess.run([*kubedistill_command(), "validate", str(folder), *flags, "-o", "json"], stdout=out,
                                 stderr=subprocess.PIPE, text=True)
            runs.append(time.perf_counter() - start)
        code = run.returncode
        resources = json.loads(report.read_text())["resources"]
        docs = sum(r["status"] != "empty" for r in resources)
        findings = sum(len(r["findings"]) for r in resources)
        report.unlink()
    seconds = statistics.median(runs)
    return {"seconds": seconds, "docs": docs, "findings": findings, "per_second": docs / seconds, "runs_s": runs,
            "load_at_start": loads, "exit_code": code,
            "command": f"kubedistill validate DIR {' '.join(flags)} -o json > report.json"}


def kubernetes_validate_docs(files: list[str]) -> int:
    """Resources kubernetes-validate reads from the files (its CLI prints only problems)."""
    import kubernetes_validate.utils as kv

    docs = 0
    for path in files:
        with contextlib.suppress(SystemExit):
            docs += len(kv.resources_from_file(path))
    return docs


def kubeconform_schemas(version: str, dest: Path) -> Path:
    """kubernetes-validate's strict schemas in the layout kubeconform's ``-schema-location DIR`` reads
    (``v{version}.0-standalone-strict/{kind}-{group}-{version}.json``), each made standalone: the definitions it
    reaches in ``_definitions.json`` copied under its own ``$defs``, where its ``#/$defs/...`` refs point."""
    from kubedistill.verify.schema import schema_root

    source = schema_root() / f"v{version}.0-local-strict"
    definitions = json.loads(source.joinpath("_definitions.json").read_text())["$defs"]
    folder = dest / f"v{version}.0-standalone-strict"
    folder.mkdir(parents=True)
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []) or []:
            group, ver, kind = gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")
            suffix = f"-{group.split('.')[0]}-{ver}" if group else f"-{ver}"
            folder.joinpath(f"{kind.lower()}{suffix}.json").write_text(json.dumps(_standalone(name, definitions)))
    return dest


def _standalone(name: str, definitions: dict) -> dict:
    reached, todo, ref = set(), [name], '"$ref": "#/$defs/'
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(part.split('"')[0] for part in json.dumps(definitions[current]).split(ref)[1:])
    return {**definitions[name], "$defs": {key: definitions[key] for key in sorted(reached)}}


def time_kubeconform(kubeconform: str, folder: Path, version: str, tmp: Path) -> dict:
    """kubeconform as its README runs it in CI: strict, two routines, JSON output, offline schemas."""
    schemas = kubeconform_schemas(version, tmp / "kubeconform-schemas")
    start = time.perf_counter()
    run = subprocess.run([kubeconform, "-n", "2", "-strict", "-summary", "-output", "json", "-kubernetes-version",
                          f"{version}.0", "-schema-location", str(schemas), str(folder)], capture_output=True,
                         text=True)
    elapsed = time.perf_counter() - start
    try:
        summary = json.loads(run.stdout).get("summary", {})
    except json.JSONDecodeError:
        return {"error": (run.stderr or run.stdout)[-500:]}
    docs = sum(summary.get(k, 0) for k in ("valid", "invalid", "errors"))
    return {"seconds": elapsed, "docs": docs, "summary": summary, "per_second": docs / elapsed if elapsed else 0}


def time_checkov_copies(checkov: str, folders: list[Path]) -> dict | None:
    """checkov once per copy, as on separate repositories, times and resources added up. On one folder holding
    every copy its label-selector graph grows with the square of the resources, the copies' labels all matching
    each other: ten copies ran past 9 minutes and 3.7 GB without finishing the graph, one copy takes half a minute."""
    runs = [time_checkov_dir(checkov, folder) for folder in folders]
    if any(run is None or "error" in run for run in runs):
        return next((run for run in runs if run and "error" in run), None)
    seconds, resources = sum(r["seconds"] for r in runs), sum(r["resources"] for r in runs)
    return {"seconds": seconds, "resources": resources, "per_second": resources / seconds, "runs": len(runs),
            "runs_s": [r["seconds"] for r in runs]}


def cli_section(args: argparse.Namespace, root: Path, index: list[dict], tmp: Path) -> dict:
    files = builtin_kind_files(root, index)
    folder = copied(files, args.copies, tmp / "corpus")
    paths = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    copies = sorted(p for p in folder.iterdir() if p.is_dir())[:args.anchor_copies]
    anchor_paths = sorted(str(p) for copy in copies for p in copy.iterdir())
    out: dict = {"files": len(paths), "source_files": len(files), "copies": args.copies,
                 "anchor_copies": len(copies), "anchor_files": len(anchor_paths), "load_before": os.getloadavg()}
    compile_bytecode()
    subprocess.run([*kubedistill_command(), "validate", paths[0]], capture_output=True)  # OS caches, as users have
    out["ours_l1_l2_cli"] = time_ours_cli(folder, ["--levels", "L1,L2"], args.cli_repeat, tmp)
    out["ours_l1_l4_best_practice_cli"] = time_ours_cli(folder, ["--policy", "best-practice"], args.cli_repeat, tmp)
    kv_docs = kubernetes_validate_docs(anchor_paths)
    out["load_at_anchor_starts"] = [wait_quiet()]
    cli_s, _ = time_kubernetes_validate_cli(anchor_paths, args.version)
    if cli_s:
        out["kubernetes_validate_cli"] = {"seconds": cli_s, "docs": kv_docs, "per_second": kv_docs / cli_s}
    out["load_at_anchor_starts"].append(wait_quiet())
    kv_s, kv_in = time_kubernetes_validate(anchor_paths, args.version)
    out["kubernetes_validate_in_process"] = {"seconds": kv_s, "docs": kv_in, "per_second": kv_in / kv_s}
    out["load_at_anchor_starts"].append(wait_quiet())
    out["checkov_cli"] = time_checkov_copies(args.checkov, copies)
    if args.kubeconform:
        out["kubeconform_cli"] = time_kubeconform(args.kubeconform, folder, args.version, tmp)
    else:
        out["kubeconform_cli"] = {"not_measured": "kubeconform: not measured, Go module proxy unreachable here "
                                                  "(pass --kubeconform PATH to a kubeconform built with go install)"}
    ours12, ours14 = out["ours_l1_l2_cli"]["per_second"], out["ours_l1_l4_best_practice_cli"]["per_second"]
    if "kubernetes_validate_cli" in out:
        out["ratio_l1_l2_cli_vs_kubernetes_validate_cli"] = ours12 / out["kubernetes_validate_cli"]["per_second"]
    out["ratio_l1_l2_cli_vs_kubernetes_validate_in_process"] = ours12 / out["kubernetes_validate_in_process"][
        "per_second"]
    if out["checkov_cli"] and out["checkov_cli"].get("per_second"):
        out["ratio_l1_l4_cli_vs_checkov_cli"] = ours14 / out["checkov_cli"]["per_second"]
    if out["kubeconform_cli"].get("per_second"):
        out["ratio_l1_l2_cli_vs_kubeconform_cli"] = ours12 / out["kubeconform_cli"]["per_second"]
    out["load_after"] = os.getloadavg()
    return out


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


def machine_facts() -> dict:
    """``corpus.machine()`` and what the CPU offers that a verifier in Python could use, or not."""
    flags: set[str] = set()
    with contextlib.suppress(OSError):
        flags = set(next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                          if line.startswith("flags")), []))
    return {**machine(), "avx2": "avx2" in flags, "avx512": "avx512f" in flags, "bf16": "avx512_bf16" in flags,
            "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample-every", type=int, default=1,
                        help="in-process anchor sample: every Nth file of the index (1: the whole corpus)")
    parser.add_argument("--checkov", default=os.environ.get("CHECKOV", "checkov"), help="checkov executable")
    parser.add_argument("--kubeconform", default=os.environ.get("KUBECONFORM", ""),
                        help="kubeconform executable (built with go install); not measured without one")
    parser.add_argument("--big-docs", type=int, default=100_000, help="documents in the memory test stream")
    parser.add_argument("--version", default="1.33")
    parser.add_argument("--repeat", type=int, default=5, help="in-process runs of ours per configuration (median)")
    parser.add_argument("--copies", type=int, default=10, help="copies of the built-in-kind files for the CLI runs")
    parser.add_argument("--cli-repeat", type=int, default=5, help="fresh CLI runs of ours per configuration (median)")
    parser.add_argument("--anchor-copies", type=int, default=3, help="copies the anchors' CLIs run on (slow: half "
                        "a minute to a minute a copy each)")
    parser.add_argument("--skip-in-process", action="store_true", help="only the CLI runs (a quick look; the "
                        "results file then has no in-process figures)")
    args = parser.parse_args()

    root = real_dir()
    index = load_index(root)
    out: dict = {"machine": machine_facts()}
    with tempfile.TemporaryDirectory() as tmp:
        out["cli"] = cli_section(args, root, index, Path(tmp))
    if not args.skip_in_process:
        out.update(in_process_section(args, root, index))
    write_result("verify_throughput", out, render(out))


def in_process_section(args: argparse.Namespace, root: Path, index: list[dict]) -> dict:
    all_files = [str(root / e["file"]) for e in index]
    sample = all_files[:: args.sample_every]
    l12 = VerifyConfig(k8s_version=args.version, levels=(1, 2), ignore_missing_schemas=True)
    full = VerifyConfig(k8s_version=args.version, policy="best-practice", ignore_missing_schemas=True)
    Verifier(l12)  # load and index the schemas once, outside the timings (both sides start warm)

    out: dict = {"corpus_files": len(all_files), "sample_files": len(sample), "repeat": args.repeat}
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
    return out


def _rows(section: dict) -> list[str]:
    rows = ["| run | docs | seconds | docs/s |", "|---|---:|---:|---:|"]
    for key, value in section.items():
        if isinstance(value, dict) and "per_second" in value:
            docs = value.get("docs", value.get("resources"))
            rows.append(f"| {key} | {docs} | {value['seconds']:.2f} | {value['per_second']:.0f} |")
    return rows


def render(out: dict) -> str:
    m = out["machine"]
    lines = ["# Verifier throughput", "",
             f"Machine: {m['platform']}, Python {m['python']}, {m['cpu']}, {m['cores']} cores "
             f"({m['cores_usable']} usable), AVX2 {'yes' if m['avx2'] else 'no'}, AVX-512 "
             f"{'yes' if m['avx512'] else 'no'}, bf16 {'yes' if m['bf16'] else 'no'}", ""]
    cli = out.get("cli")
    if cli:
        lines += ["## As users run it: fresh CLI processes writing their output", "",
                  f"{cli['files']:,} files: the {cli['source_files']:,} built-in-kind files of the shared "
                  f"real-manifest corpus (no custom resource, no CRD) copied {cli['copies']} times. Ours: "
                  "`kubedistill validate DIR "
                  "[--levels L1,L2 | --policy best-practice] -o json > report.json`, default jobs, the median of "
                  f"{len(cli['ours_l1_l2_cli']['runs_s'])} fresh processes, each started once the 1-minute load "
                  "average was under 1 (all runs and loads in the JSON), documents counted "
                  "from the report (empty ones left out). Anchors once each, as CLIs with their output, in the same "
                  f"run, on the first {cli['anchor_copies']} copies ({cli['anchor_files']:,} files; checkov once per "
                  f"copy, see `time_checkov_copies`). Load average before {cli['load_before'][0]:.2f}, after "
                  f"{cli['load_after'][0]:.2f} (the cores are shared).", "", *_rows(cli), ""]
        if "ratio_l1_l2_cli_vs_kubernetes_validate_cli" in cli:
            lines.append("L1+L2 CLI vs kubernetes-validate CLI: "
                         f"**{cli['ratio_l1_l2_cli_vs_kubernetes_validate_cli']:.0f}x** (vs kubernetes-validate in "
                         f"process: {cli['ratio_l1_l2_cli_vs_kubernetes_validate_in_process']:.0f}x)")
        if "ratio_l1_l4_cli_vs_checkov_cli" in cli:
            lines.append(f"L1-L4 (best-practice) CLI vs checkov CLI: **{cli['ratio_l1_l4_cli_vs_checkov_cli']:.0f}x**")
        kubeconform = cli.get("kubeconform_cli", {})
        if "ratio_l1_l2_cli_vs_kubeconform_cli" in cli:
            lines.append(f"L1+L2 CLI vs kubeconform -n 2: **{cli['ratio_l1_l2_cli_vs_kubeconform_cli']:.2f}x**")
        else:
            lines.append(kubeconform.get("not_measured") or f"kubeconform: {kubeconform.get('error', 'no figure')}")
        lines.append("")
    if "sample_files" in out:
        lines += ["## In process", "",
                  f"`verify_paths` over every file of {out['sample_files']} (of {out['corpus_files']}) from the shared "
                  "real-manifest corpus; anchors and ours on the same sample in one run. Ours: the median of "
                  f"{out.get('repeat', 1)} runs each (all runs in the JSON; schemas compiled and caches warm after the "
                  "first); anchors: one run each.", "", *_rows(out), "",
                  f"L1+L2 vs kubernetes-validate: **{out['ratio_l1_l2_vs_kubernetes_validate']:.0f}x**"]
        if "ratio_l1_l4_vs_checkov" in out:
            lines.append(f"L1-L4 (best-practice) vs checkov: **{out['ratio_l1_l4_vs_checkov']:.0f}x**")
        for key in ("memory_stream_one_file", "memory_many_files_j2"):
            if key in out:
                mem = out[key]
                lines.append(f"{key}: {mem['docs_requested']:,} documents, peak RSS {mem['peak_rss_mb']:.0f} MB, "
                             f"{mem['seconds']:.1f} s, exit {mem['exit_code']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
