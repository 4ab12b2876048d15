"""``kubedistill pipeline``: the whole distillation as one cached, resumable command (see ``pipeline/run.py``).

    kubedistill pipeline                                          # the quickstart preset (embedded default)
    kubedistill pipeline --config configs/pipeline/paper.yaml --out runs/paper
    kubedistill pipeline --config configs/pipeline/quickstart.yaml --engine ray --ray-address auto
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path

from kubedistill.config import load_config
from kubedistill.corpus.engine import ENGINES
from kubedistill.errors import EXIT_OK
from kubedistill.pipeline.run import Pipeline, PipelineConfig, with_out

DEFAULT = "quickstart"
SHARED_REAL_MANIFESTS = "../shared/data/real-manifests"
"""The shared real corpus beside a checkout; a preset may name it and still run where it is absent."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config (see configs/pipeline/); default: the embedded quickstart")
    parser.add_argument("--out", help="output folder (default: the config's out)")
    parser.add_argument("--engine", choices=ENGINES, help="where the corpus map stage runs")
    parser.add_argument("--ray-address", help="a running Ray cluster for --engine ray (auto, ray://HEAD:10001)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. train.max_steps=10")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def default_config_path() -> str:
    return str(resources.files("kubedistill.pipeline").joinpath(f"{DEFAULT}.yaml"))


def run(args: argparse.Namespace) -> int:
    config = load_config(PipelineConfig, args.config or default_config_path(), args.overrides)
    if args.engine:
        config = replace(config, engine=args.engine)
    if args.ray_address:
        config = replace(config, ray_address=args.ray_address)
    config, out = with_out(config, args.out)
    reverse = config.sources.reverse
    if reverse.dir and not Path(reverse.dir).is_dir() and reverse.dir == SHARED_REAL_MANIFESTS:
        print(f"kubedistill pipeline: {reverse.dir} not found: reverse instructions skipped, synthetic pairs only",
              file=sys.stderr)
        config = replace(config, sources=replace(config.sources, reverse=replace(reverse, dir="")))
    summary = Pipeline(config, out, progress=args.progress).run()
    report = summary["stages"].get("report", {})
    print(json.dumps({k: v for k, v in report.items() if k != "skipped"}, sort_keys=True))
    print(f"report: {out / 'report' / 'README.md'}")
    return EXIT_OK
