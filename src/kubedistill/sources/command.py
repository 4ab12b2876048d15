"""``kubedistill sources``: the CLI face of the sources job (see ``sources/run.py``)."""

from __future__ import annotations

import argparse
import json
import sys

from kubedistill.config import load_config
from kubedistill.errors import EXIT_OK
from kubedistill.sources.run import SourcesConfig, run_sources


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config (see configs/sources/); defaults apply without one")
    parser.add_argument("--out", required=True, help="output directory (pairs.jsonl, stats.json, cache/)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="config overrides, e.g. synthetic.n=500 teacher.kind=openai")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress line (default: when stderr is a terminal)")


def run(args: argparse.Namespace) -> int:
    config = load_config(SourcesConfig, args.config, args.overrides)
    stats = run_sources(config, args.out, progress=args.progress)
    print(json.dumps({k: v for k, v in stats.items() if k != "families"}, sort_keys=True), file=sys.stderr)
    print(f"{stats['written']} pairs written to {args.out}/pairs.jsonl ({stats.get('resumed', 0)} already there, "
          f"{stats.get('rejected', 0)} rejected by the teacher)")
    return EXIT_OK
