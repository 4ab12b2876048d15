"""``kubedistill eval``: evaluate a model (default action), ``eval compare RUN...``, ``eval ablate --config``.

    kubedistill eval --model qwen2.5-coder-0.5b-instruct --corpus runs/corpus --split test --prompt strict \\
        --backend llamacpp --out runs/eval/qwen05-strict
    kubedistill eval --model smollm2-135m-instruct --adapter runs/train --corpus runs/corpus --repair 2 \\
        --out runs/eval/a
    kubedistill eval compare runs/eval/qwen05-plain runs/eval/qwen05-strict --out runs/eval/compare
    kubedistill eval ablate --config configs/eval/ablate.yaml --out runs/ablate
    kubedistill eval --benchmark cloudeval --data ~/CloudEval-YAML/data --model ... --out runs/eval/cloudeval
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from kubedistill.config import load_config
from kubedistill.errors import EXIT_FINDINGS, EXIT_OK, UserError
from kubedistill.evaluation.run import EvalConfig

ACTIONS = ("run", "compare", "ablate")
# flag -> EvalConfig field, for the flags that map one to one
FLAGS = {"model": str, "adapter": str, "split": str, "corpus": str, "prompt": str, "max_new_tokens": int,
         "temperature": float, "repair": int, "backend": str, "limit": int, "policy": str, "context": str,
         "k8s_version": str, "cache_dir": str, "model_cache": str, "benchmark": str, "data": str,
         "batch_size": int, "dtype": str, "repair_style": str, "repair_spec": str, "hints": str,
         "openai_base_url": str, "openai_timeout": float}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="run", choices=ACTIONS,
                        help="run (default): evaluate one model; compare: tabulate runs; ablate: the full experiment")
    parser.add_argument("runs", nargs="*", help="compare: run folders, in the order to show them")
    parser.add_argument("--config", help="YAML config: EvalConfig for run, AblateConfig for ablate")
    parser.add_argument("--out", help="output folder (results.jsonl, summary.json, report.md, plots/)")
    for name, kind in FLAGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None)
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel generators (each loads the model)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="any other config field, e.g. --set seed=1")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def _eval_config(args: argparse.Namespace) -> EvalConfig:
    """defaults < --config YAML < --set KEY=VALUE < the typed flags (taken as typed, never re-parsed as YAML)."""
    config = load_config(EvalConfig, args.config, args.overrides)
    flags = {name: getattr(args, name) for name in [*FLAGS, "jobs"] if getattr(args, name) is not None}
    return replace(config, **flags)


def run(args: argparse.Namespace) -> int:
    if args.action == "compare":
        from kubedistill.evaluation.report import compare

        print(compare(args.runs, args.out), end="")
        return EXIT_OK
    if args.runs:
        raise UserError(f"unexpected arguments {' '.join(args.runs)!r}", "run folders are only for eval compare")
    if not args.out:
        raise UserError("--out is required", "name a folder for results.jsonl, summary.json and report.md")
    if args.action == "ablate":
        from kubedistill.evaluation.ablate import AblateConfig, ablate, summary_line

        if not args.config:
            raise UserError("eval ablate needs --config", "see configs/eval/ablate-quick.yaml")
        result = ablate(load_config(AblateConfig, args.config, args.overrides), args.out, args.progress)
        print(summary_line(result))
        return EXIT_OK
    from kubedistill.evaluation.report import headline
    from kubedistill.evaluation.run import evaluate

    config = _eval_config(args)
    backend = None
    if config.backend == "openai" and not config.problems():  # an unreachable model server fails before any output
        from kubedistill.inference.backend import load_backend

        backend = load_backend(config.ref())
    summary = evaluate(config, args.out, args.progress, backend)
    print(f"full-pass@1 {headline(summary)}; report: {args.out}/report.md")
    return EXIT_OK if summary["cases"] else EXIT_FINDINGS
