"""``kubedistill corpus build``: the CLI face of the corpus builder (see ``corpus/build.py``)."""

from __future__ import annotations

import argparse

from kubedistill.config import load_config
from kubedistill.corpus.build import CorpusConfig, build_corpus
from kubedistill.corpus.engine import ENGINES, make_engine
from kubedistill.errors import EXIT_OK, UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="filter, canonicalize, deduplicate, split and describe pairs")
    build.add_argument("--config", help="YAML config (see configs/corpus/); defaults apply without one")
    build.add_argument("--input", action="append", required=True, metavar="PAIRS.jsonl",
                       help="pairs from kubedistill sources (repeatable)")
    build.add_argument("--out", required=True, help="output directory (data/, README.md, plots/, stats.json)")
    build.add_argument("-j", "--jobs", type=int, default=1, help="worker processes for the per-pair stage")
    build.add_argument("--engine", default="local", choices=ENGINES,
                       help="where the per-pair stage runs: local processes or Ray tasks (same output bytes)")
    build.add_argument("--ray-address", default="", help="a running Ray cluster (auto, ray://HEAD:10001)")
    build.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. split.test=100")
    build.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="show a progress line (default: when stderr is a terminal)")


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {args.jobs}")
    config = load_config(CorpusConfig, args.config, args.overrides)
    engine = make_engine(args.engine, args.jobs, args.ray_address)
    summary = build_corpus(config, args.input, args.out, jobs=args.jobs, progress=args.progress, engine=engine)
    funnel = ", ".join(f"{label} {value}" for label, value in summary["funnel"])
    print(f"corpus written to {args.out}: " + ", ".join(f"{s} {n}" for s, n in summary["splits"].items()))
    print(f"funnel: {funnel}")
    return EXIT_OK
